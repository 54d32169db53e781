namespace Microservices.Caching.Coordination;

/// <param name="Allowed">Whether this request fits in the window.</param>
/// <param name="Count">Requests counted in the current window, this one included.</param>
/// <param name="RetryAfter">Time until the window resets.</param>
public readonly record struct RateLimitDecision(bool Allowed, long Count, int Limit, TimeSpan RetryAfter);

/// <summary>
/// At most <c>limit</c> requests per key per window; the window starts with the key's first request
/// (e.g. "one export per user every 6 days": limit 1, window 6 days).
/// </summary>
public interface IFixedWindowRateLimiter
{
    Task<RateLimitDecision> TryAcquireAsync(string key, int limit, TimeSpan window, CancellationToken cancellationToken = default);
}
