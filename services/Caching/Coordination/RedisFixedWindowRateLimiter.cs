using Microservices.Caching.L2;
using StackExchange.Redis;

namespace Microservices.Caching.Coordination;

/// <summary>
/// INCR plus PEXPIRE on the first hit, in one script so the window's expiry is never lost. While
/// Redis is unreachable the limiter falls back to per-process windows rather than refusing all work.
/// </summary>
internal sealed class RedisFixedWindowRateLimiter(IConnectionMultiplexer redis, string keyPrefix, IFixedWindowRateLimiter fallback) : IFixedWindowRateLimiter
{
    private const string Script = """
        local count = redis.call('INCR', KEYS[1])
        local ttl = redis.call('PTTL', KEYS[1])
        if ttl < 0 then
          redis.call('PEXPIRE', KEYS[1], ARGV[1])
          ttl = tonumber(ARGV[1])
        end
        return {count, ttl}
        """;

    public async Task<RateLimitDecision> TryAcquireAsync(string key, int limit, TimeSpan window, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        try
        {
            var reply = (RedisResult[])(await redis.GetDatabase()
                .ScriptEvaluateAsync(Script, [keyPrefix + CacheKeyspace.RateLimit(key)], [LeaseToken.Milliseconds(window)])
                .BoundAsync(cancellationToken).ConfigureAwait(false))!;
            var count = (long)reply[0];
            return new RateLimitDecision(count <= limit, count, limit, TimeSpan.FromMilliseconds((long)reply[1]));
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException)
        {
            // Disconnected calls fail at once (BacklogPolicy.FailFast), so the fallback answers without delay.
            return await fallback.TryAcquireAsync(key, limit, window, cancellationToken).ConfigureAwait(false);
        }
    }
}
