namespace Microservices.Grpc.Client;

/// <summary>gRFC A6 retry throttling: failures spend a token, successes earn a fraction back.</summary>
internal sealed class RetryBudget(RetryPolicy policy)
{
    private readonly Lock _lock = new();
    private double _tokens = policy.BudgetMaxTokens;

    public bool CanRetry
    {
        get
        {
            lock (_lock)
            {
                return _tokens > policy.BudgetMaxTokens / 2;
            }
        }
    }

    public void OnFailure()
    {
        lock (_lock)
        {
            _tokens = Math.Max(0, _tokens - 1);
        }
    }

    public void OnSuccess()
    {
        lock (_lock)
        {
            _tokens = Math.Min(policy.BudgetMaxTokens, _tokens + policy.BudgetTokenRatio);
        }
    }

    /// <summary>Full-jitter backoff before retry number <paramref name="retry"/> (1-based).</summary>
    public TimeSpan Backoff(int retry)
    {
        var ceiling = policy.InitialBackoff.TotalMilliseconds * Math.Pow(policy.BackoffMultiplier, retry - 1);
        ceiling = Math.Min(ceiling, policy.MaxBackoff.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * ceiling);
    }
}
