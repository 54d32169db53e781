using Microservices.TestSupport;
using Microservices.Caching.Connection;
using StackExchange.Redis;

namespace Microservices.Caching.Tests;

/// <summary>A "pod": its own multiplexer and its own cache, like one replica of a service.</summary>
internal sealed class Pod : IAsyncDisposable
{
    private Pod(ConnectionMultiplexer redis, TwoLevelCache cache)
    {
        Redis = redis;
        Cache = cache;
    }

    public ConnectionMultiplexer Redis { get; }

    public IDatabase Db => Redis.GetDatabase();

    public TwoLevelCache Cache { get; }

    public static async Task<Pod> StartAsync(RedisServer server, string prefix = "svc", int version = 1, TimeSpan? redisTimeout = null, TimeSpan? breakerOpen = null, TimeSpan? fenceLifetime = null, TimeSpan? retryInterval = null, int maxPending = 10_000)
    {
        // The options production uses (RedisConnection), with a short connect timeout for restarts.
        var redis = await ConnectionMultiplexer.ConnectAsync(RedisConnection.Options($"{server.Endpoint},connectTimeout=300"));

        // A first attempt slower than connectTimeout (a busy machine) returns a multiplexer still
        // connecting; the cache would count its first calls as errors ("no connection").
        await Eventually.TrueAsync(() => Task.FromResult(redis.IsConnected), "the pod's multiplexer connected", 10_000);
        await redis.GetDatabase().PingAsync();
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

/// <summary>A separate client for setting up and checking Redis behind the cache's back (DEBUG needs allowAdmin).</summary>
internal static class Admin
{
    public static async Task<ConnectionMultiplexer> ConnectAsync(RedisServer server) =>
        await ConnectionMultiplexer.ConnectAsync($"{server.Endpoint},allowAdmin=true,syncTimeout=10000");

    /// <summary>Stalls the whole server (DEBUG SLEEP); the returned task completes when it answers again.</summary>
    public static Task StallAsync(this IConnectionMultiplexer admin, int seconds) =>
        admin.GetDatabase().ExecuteAsync("DEBUG", "SLEEP", seconds);
}

internal static class DatabaseAssertions
{
    /// <summary>GET as bytes; null when the key does not exist.</summary>
    public static async Task<byte[]?> GetBytesAsync(this IDatabase db, string key) => (byte[]?)await db.StringGetAsync(key);

    public static async Task<long> PttlAsync(this IDatabase db, string key) => (long)await db.ExecuteAsync("PTTL", (RedisKey)key);
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
    public static Task TrueAsync(Func<Task<bool>> condition, string what, int timeoutMs = 5000) =>
        Microservices.TestSupport.Eventually.HoldsAsync(condition, what, TimeSpan.FromMilliseconds(timeoutMs));

    public static Task SubscribersAsync(IConnectionMultiplexer redis, string channel, int count) =>
        TrueAsync(
            async () =>
            {
                try
                {
                    return await redis.GetDatabase().ExecuteAsync("PUBSUB", "NUMSUB", channel) is var reply && (long)reply[1] == count;
                }
                catch (RedisException)
                {
                    return false;
                }
            },
            $"{count} subscribers on {channel}",
            10_000);
}
