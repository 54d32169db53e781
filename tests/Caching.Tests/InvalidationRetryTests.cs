using Microservices.TestSupport;
using System.Text;
using Microservices.Caching.Resilience;
using StackExchange.Redis;

namespace Microservices.Caching.Tests;

/// <summary>
/// A write whose invalidation cannot reach Redis (breaker open after a stall) must not leave the
/// old entry in Redis, and in other replicas' L1, for the entry's whole lifetime.
/// </summary>
public sealed class InvalidationRetryTests
{
    [Fact]
    public async Task A_write_made_while_the_breaker_is_open_is_invalidated_once_Redis_answers_again()
    {
        await using var pods = await WriterAndReader.StartAsync("retry");
        var (admin, writer, reader) = (pods.Admin, pods.Writer, pods.Reader);
        using var metrics = new MetricsRecorder(writer.Cache.Metrics.Meter);
        var origin = "old";
        Task<byte[]?> Origin(CancellationToken _) => Task.FromResult<byte[]?>(B(origin));
        Assert.Equal(B("old"), await reader.Cache.GetOrCreateAsync("k", Origin));

        await OpenBreakerAsync(writer, admin);
        origin = "new";
        await writer.Cache.RemoveAsync("k");

        Assert.Equal(1, metrics.Gauge("cache.invalidations.pending"));
        Assert.Equal(B("old"), Stored.Payload(await admin.GetDatabase().GetBytesAsync("retry:v1:k")));
        Assert.Equal(B("new"), await writer.Cache.GetOrCreateAsync("k", Origin));
        await Eventually.TrueAsync(
            async () => (await reader.Cache.GetOrCreateAsync("k", Origin))!.SequenceEqual(B("new")),
            "the other replica sees the write (its L1 evicted, the Redis entry gone)",
            10_000);
        Assert.Equal(0, metrics.Gauge("cache.invalidations.pending"));
        Assert.Equal(CircuitState.Closed, writer.Cache.BreakerState);
    }

    [Fact]
    public async Task Too_many_failed_invalidations_flush_every_entry_of_the_prefix_but_not_the_caches_own_keys()
    {
        await using var pods = await WriterAndReader.StartAsync("overflow", maxPending: 2);
        var (admin, writer, reader) = (pods.Admin, pods.Writer, pods.Reader);
        foreach (var key in new[] { "a", "b", "c", "untouched" })
        {
            await reader.Cache.GetOrCreateAsync(key, _ => Task.FromResult<byte[]?>(B("old")));
        }

        await admin.GetDatabase().StringSetAsync("overflow:v1:__lock:job", B("holder"));
        await admin.GetDatabase().StringSetAsync("elsewhere:v1:a", B("another service"));

        await OpenBreakerAsync(writer, admin);
        foreach (var key in new[] { "a", "b", "c" })
        {
            await writer.Cache.RemoveAsync(key);
        }

        // Past the limit the writer trusts no Redis entry of its prefix, not even keys it never wrote.
        Assert.Equal(B("writer"), await writer.Cache.GetOrCreateAsync("untouched", _ => Task.FromResult<byte[]?>(B("writer"))));

        await Eventually.TrueAsync(async () => await admin.GetDatabase().GetBytesAsync("overflow:v1:untouched") is null, "the prefix flushed", 10_000);
        foreach (var key in new[] { "a", "b", "c" })
        {
            Assert.Null(await admin.GetDatabase().GetBytesAsync($"overflow:v1:{key}"));
        }

        Assert.Equal(B("holder"), await admin.GetDatabase().GetBytesAsync("overflow:v1:__lock:job"));
        Assert.Equal(B("another service"), await admin.GetDatabase().GetBytesAsync("elsewhere:v1:a"));
        await Eventually.TrueAsync(() => Task.FromResult(reader.Cache.Local.Count == 0), "the other replica cleared its L1");
    }

    [Fact]
    public async Task A_load_that_read_the_origin_before_an_overflow_flush_cannot_fill_Redis_after_it()
    {
        await using var pods = await WriterAndReader.StartAsync("flushrace", maxPending: 1);
        var (admin, writer, reader) = (pods.Admin, pods.Writer, pods.Reader);
        using var metrics = new MetricsRecorder(writer.Cache.Metrics.Meter);

        // The reader misses k, reads the old origin value and stalls across everything below.
        var readOld = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var slowLoad = reader.Cache.GetOrCreateAsync("k", async _ =>
        {
            readOld.SetResult();
            await release.Task;
            return B("old");
        });
        await readOld.Task;

        await OpenBreakerAsync(writer, admin);
        await writer.Cache.RemoveAsync("other");
        await writer.Cache.RemoveAsync("k");
        Assert.Equal(2, metrics.Gauge("cache.invalidations.pending"));
        await Eventually.TrueAsync(() => Task.FromResult(metrics.Gauge("cache.invalidations.pending") == 0), "the prefix flushed", 10_000);

        release.SetResult();
        await slowLoad;
        Assert.Null(await admin.GetDatabase().GetBytesAsync("flushrace:v1:k"));
    }

    /// <summary>
    /// Its own redis-server; a writer pod whose breaker a stall can open (150 ms budget, 3 s open),
    /// a reader pod, and an admin client. Both pods are subscribed to invalidations.
    /// </summary>
    private sealed class WriterAndReader : IAsyncDisposable
    {
        private RedisServer _server = null!;

        public ConnectionMultiplexer Admin { get; private set; } = null!;

        public Pod Writer { get; private set; } = null!;

        public Pod Reader { get; private set; } = null!;

        public static async Task<WriterAndReader> StartAsync(string prefix, int maxPending = 10_000)
        {
            var pods = new WriterAndReader { _server = await RedisServer.StartAsync() };
            pods.Admin = await Microservices.Caching.Tests.Admin.ConnectAsync(pods._server);
            pods.Writer = await Pod.StartAsync(pods._server, prefix, redisTimeout: TimeSpan.FromMilliseconds(150), breakerOpen: TimeSpan.FromSeconds(3), maxPending: maxPending);
            pods.Reader = await Pod.StartAsync(pods._server, prefix);
            await Eventually.SubscribersAsync(pods.Admin, $"{prefix}:v1:__invalidate", 2);
            return pods;
        }

        public async ValueTask DisposeAsync()
        {
            await Reader.DisposeAsync();
            await Writer.DisposeAsync();
            await Admin.DisposeAsync();
            await _server.DisposeAsync();
        }
    }

    /// <summary>
    /// Redis stalls for 1 s; lookups by the pod time out (150 ms each) until its breaker opens
    /// (threshold 3), then Redis answers again while the breaker stays open (3 s).
    /// </summary>
    private static async Task OpenBreakerAsync(Pod pod, IConnectionMultiplexer admin)
    {
        var stall = admin.StallAsync(1);
        for (var i = 0; i < 6 && pod.Cache.BreakerState != CircuitState.Open; i++)
        {
            await pod.Cache.GetOrCreateAsync($"probe{i}", _ => Task.FromResult<byte[]?>(B("probe")));
        }

        Assert.Equal(CircuitState.Open, pod.Cache.BreakerState);
        await stall;
    }

    private static byte[] B(string text) => Encoding.UTF8.GetBytes(text);
}
