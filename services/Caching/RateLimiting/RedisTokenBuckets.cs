using Microservices.Caching.L2;
using StackExchange.Redis;

namespace Microservices.Caching.RateLimiting;

/// <summary>
/// Token buckets in Redis, one hash per key, read, refilled and taken from in one script so replicas
/// never race. Time is Redis's (TIME), so replicas' clocks need not agree. A key expires once its
/// bucket would be full again: an idle owner costs nothing.
/// </summary>
internal sealed class RedisTokenBuckets(IConnectionMultiplexer redis, TimeSpan timeout) : ITokenBuckets
{
    /// <summary>ARGV: permits per period, period (ms), capacity. Returns {allowed (0|1), retry after (ms)}.</summary>
    private const string Script = """
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        local permits = tonumber(ARGV[1])
        local period = tonumber(ARGV[2])
        local capacity = tonumber(ARGV[3])
        local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
        local tokens = tonumber(state[1]) or capacity
        local at = tonumber(state[2]) or now
        -- A clock that went back (a failover to a replica behind) refills nothing rather than going negative.
        if now > at then
          tokens = math.min(capacity, tokens + (now - at) * permits / period)
          at = now
        end
        local allowed = 0
        local wait = 0
        if tokens >= 1 then
          tokens = tokens - 1
          allowed = 1
        else
          wait = math.ceil((1 - tokens) * period / permits)
        end
        redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', at)
        redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) * period / permits) + 1000)
        return {allowed, wait}
        """;

    public async Task<TokenBucketDecision> TakeAsync(string key, MethodRateLimit limit, CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        try
        {
            var reply = (RedisResult[])(await redis.GetDatabase()
                .ScriptEvaluateAsync(Script, [key], [limit.PermitsPerPeriod, (long)Math.Ceiling(limit.Period.TotalMilliseconds), limit.Capacity])
                .BoundAsync(bounded.Token).ConfigureAwait(false))!;
            return new TokenBucketDecision((long)reply[0] == 1, TimeSpan.FromMilliseconds((long)reply[1]));
        }
        catch (OperationCanceledException error) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TokenBucketsUnavailableException($"Redis did not answer within {timeout}", error);
        }
        catch (Exception error) when (error is RedisConnectionException or RedisTimeoutException)
        {
            throw new TokenBucketsUnavailableException("Redis is unreachable", error);
        }
    }
}
