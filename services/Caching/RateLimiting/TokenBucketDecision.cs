namespace Microservices.Caching.RateLimiting;

/// <param name="Allowed">Whether the call may go ahead (a token was taken).</param>
/// <param name="RetryAfter">When refused: how long until a token is back.</param>
internal readonly record struct TokenBucketDecision(bool Allowed, TimeSpan RetryAfter)
{
    public static TokenBucketDecision Allow => new(true, TimeSpan.Zero);
}

/// <summary>One token bucket per key, shared by every replica that asks the same store.</summary>
internal interface ITokenBuckets
{
    /// <summary>Takes a token from <paramref name="key"/>'s bucket; throws <see cref="TokenBucketsUnavailableException"/> when the store cannot answer.</summary>
    Task<TokenBucketDecision> TakeAsync(string key, MethodRateLimit limit, CancellationToken cancellationToken);
}

internal sealed class TokenBucketsUnavailableException(string message, Exception inner) : Exception(message, inner);
