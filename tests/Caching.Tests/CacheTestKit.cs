using Microservices.Redis;
using Microservices.Redis.Tests;

namespace Microservices.Caching.Tests;

/// <summary>A "pod": its own Redis client and its own cache, like one replica of a service.</summary>
internal sealed class Pod : IAsyncDisposable
{
    private Pod(IRedisClient redis, TwoLevelCache cache)
    {
        Redis = redis;
        Cache = cache;
    }

    public IRedisClient Redis { get; }

    public TwoLevelCache Cache { get; }

    public static async Task<Pod> StartAsync(RedisServer server, string prefix = "svc", int version = 1, TimeSpan? redisTimeout = null, TimeSpan? breakerOpen = null, TimeSpan? fenceLifetime = null, TimeSpan? retryInterval = null, int maxPending = 10_000)
    {
        var redis = await RedisClientFactory.ConnectAsync($"{server.Endpoint},abortConnect=false,connectTimeout=300,syncTimeout=2000");

        // A first attempt slower than connectTimeout (a busy machine) returns a client still connecting;
        // the cache would count its first calls as errors ("not connected").
        await Eventually.TrueAsync(() => Task.FromResult(redis.IsConnected), "the pod's Redis client connected", 10_000);
        await redis.PingAsync();
        var cache = new TwoLevelCache(
            new TwoLevelCacheOptions
            {
                ServicePrefix = prefix,
                Version = version,
                RedisTimeout = redisTimeout ?? TimeSpan.FromMilliseconds(500),
                BreakerFailureThreshold = 3,
                BreakerOpenDuration = breakerOpen ?? TimeSpan.FromMilliseconds(300),
                FenceLifetime = fenceLifetime ?? TimeSpan.FromMinutes(1),
                InvalidationRetryInterval = retryInterval ?? TimeSpan.FromMilliseconds(200),
                MaxPendingInvalidations = maxPending,
            },
            redis);
        await cache.Subscribed;
        return new Pod(redis, cache);
    }

    public async ValueTask DisposeAsync()
    {
        await Cache.DisposeAsync();
        await Redis.DisposeAsync();
    }
}

internal static class Stored
{
    /// <summary>The payload of an entry as the cache wrote it to Redis (null when absent).</summary>
    public static byte[]? Payload(byte[]? raw) =>
        raw is null ? null : Microservices.Caching.L1.CacheEnvelope.TryUnwrap(raw, out var payload, out _) ? payload : throw new InvalidOperationException("not a cache entry");

    public static byte[] Entry(byte[] payload) => Microservices.Caching.L1.CacheEnvelope.Wrap(payload, DateTimeOffset.UtcNow.AddMinutes(5));
}

internal static class Eventually
{
    public static async Task TrueAsync(Func<Task<bool>> condition, string what, int timeoutMs = 5000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Not true within {timeoutMs} ms: {what}");
            }

            await Task.Delay(20);
        }
    }

    public static Task SubscribersAsync(IRedisClient redis, string channel, int count) =>
        TrueAsync(
            async () =>
            {
                try
                {
                    return (await redis.ExecuteAsync("PUBSUB", ["NUMSUB", channel])).Elements![1].Integer == count;
                }
                catch (RedisException)
                {
                    return false;
                }
            },
            $"{count} subscribers on {channel}",
            10_000);
}
