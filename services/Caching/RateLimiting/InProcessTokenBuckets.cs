using System.Threading.RateLimiting;

namespace Microservices.Caching.RateLimiting;

/// <summary>
/// Without Redis (a single development host): the BCL's token buckets, one per key in this process.
/// Idle buckets are dropped once full again, as Redis expires its keys.
/// </summary>
internal sealed class InProcessTokenBuckets : ITokenBuckets, IDisposable
{
    private readonly PartitionedRateLimiter<(string Key, MethodRateLimit Limit)> _limiter =
        PartitionedRateLimiter.Create<(string Key, MethodRateLimit Limit), string>(request =>
            RateLimitPartition.GetTokenBucketLimiter(request.Key, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = request.Limit.Capacity,
                TokensPerPeriod = request.Limit.PermitsPerPeriod,
                ReplenishmentPeriod = request.Limit.Period,
                QueueLimit = 0,
                AutoReplenishment = true,
            }));

    public Task<TokenBucketDecision> TakeAsync(string key, MethodRateLimit limit, CancellationToken cancellationToken)
    {
        using var lease = _limiter.AttemptAcquire((key, limit));
        return Task.FromResult(lease.IsAcquired ? TokenBucketDecision.Allow
            : new TokenBucketDecision(false, lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : limit.Period));
    }

    public void Dispose() => _limiter.Dispose();
}
