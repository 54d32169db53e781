using Microservices.TestSupport;
using System.Text;

namespace Microservices.Caching.Tests;

public sealed class TwoLevelCacheTests(SharedRedisServer redis) : IClassFixture<SharedRedisServer>
{
    [Fact]
    public async Task A_value_loaded_on_one_pod_is_read_from_Redis_by_another()
    {
        await using var a = await Pod.StartAsync(redis.Server, prefix: "shared");
        await using var b = await Pod.StartAsync(redis.Server, prefix: "shared");
        var loads = 0;
        Task<byte[]?> Origin(CancellationToken _)
        {
            Interlocked.Increment(ref loads);
            return Task.FromResult<byte[]?>(B("from-origin"));
        }

        Assert.Equal(B("from-origin"), await a.Cache.GetOrCreateAsync("model:1", Origin));
        Assert.Equal(B("from-origin"), await b.Cache.GetOrCreateAsync("model:1", Origin));

        Assert.Equal(1, loads);
        Assert.Equal(B("from-origin"), Stored.Payload(await a.Db.GetBytesAsync("shared:v1:model:1")));
        var ttl = (await a.Db.KeyTimeToLiveAsync("shared:v1:model:1"))!.Value.TotalSeconds;
        Assert.InRange(ttl, 590, 600);
    }

    [Fact]
    public async Task A_missing_key_is_loaded_once_however_many_callers_ask_at_once()
    {
        await using var pod = await Pod.StartAsync(redis.Server, prefix: "flight");
        var loads = 0;

        var callers = Enumerable.Range(0, 200).Select(_ => Task.Run(() => pod.Cache.GetOrCreateAsync("hot", async ct =>
        {
            Interlocked.Increment(ref loads);
            await Task.Delay(200, ct);
            return B("v");
        })));
        var results = await Task.WhenAll(callers);

        Assert.Equal(1, loads);
        Assert.All(results, r => Assert.Equal(B("v"), r));
    }

    [Fact]
    public async Task A_write_on_one_pod_evicts_the_key_from_every_pods_L1()
    {
        await using var a = await Pod.StartAsync(redis.Server, prefix: "inval");
        await using var b = await Pod.StartAsync(redis.Server, prefix: "inval");
        await Eventually.SubscribersAsync(a.Redis, "inval:v1:__invalidate", 2);
        using var bMetrics = new MetricsRecorder(b.Cache.Metrics.Meter);
        await a.Cache.SetAsync("user:1", B("v1"));

        // A's announcement of v1 must reach B first, or it could evict what B reads next (by design).
        await Eventually.TrueAsync(() => Task.FromResult(bMetrics.Sum("cache.invalidations") == 1), "B applied A's invalidation of v1");
        Assert.Equal(B("v1"), await b.Cache.GetAsync("user:1"));
        Assert.True(b.Cache.Local.TryGet("user:1", out _), "B holds v1 in L1");

        // B now answers from its L1: a change behind the cache's back is not seen...
        await a.Db.StringSetAsync("inval:v1:user:1", Stored.Entry(B("sneaky")));
        Assert.Equal(B("v1"), await b.Cache.GetAsync("user:1"));

        // ...but a write through the cache is, on every pod.
        await a.Cache.SetAsync("user:1", B("v2"));
        await Eventually.TrueAsync(async () => (await b.Cache.GetAsync("user:1"))?.SequenceEqual(B("v2")) == true, "B sees v2");
        Assert.Equal(B("v2"), await a.Cache.GetAsync("user:1"));

        await b.Cache.RemoveAsync("user:1");
        await Eventually.TrueAsync(async () => await a.Cache.GetAsync("user:1") is null, "A sees the removal");
        Assert.Null(await a.Db.GetBytesAsync("inval:v1:user:1"));
    }

    [Fact]
    public async Task Keys_live_under_a_versioned_service_prefix()
    {
        await using var v1 = await Pod.StartAsync(redis.Server, prefix: "registry", version: 1);
        await using var v2 = await Pod.StartAsync(redis.Server, prefix: "registry", version: 2);
        await using var other = await Pod.StartAsync(redis.Server, prefix: "blob", version: 1);

        await v1.Cache.SetAsync("k", B("old-format"));

        Assert.Equal("registry:v1:", v1.Cache.KeyPrefix);
        Assert.Equal(B("old-format"), Stored.Payload(await v1.Db.GetBytesAsync("registry:v1:k")));
        Assert.Null(await v2.Cache.GetAsync("k"));
        Assert.Null(await other.Cache.GetAsync("k"));
    }

    [Fact]
    public async Task Per_entry_expiry_applies_in_Redis_and_bounds_L1()
    {
        await using var pod = await Pod.StartAsync(redis.Server, prefix: "ttl");

        await pod.Cache.SetAsync("short", B("x"), new CacheEntryOptions(Expiry: TimeSpan.FromMilliseconds(400)));
        Assert.InRange(await pod.Db.PttlAsync("ttl:v1:short"), 1, 400);
        Assert.Equal(B("x"), await pod.Cache.GetAsync("short"));
        await Task.Delay(600);

        Assert.Null(await pod.Cache.GetAsync("short"));
    }

    [Fact]
    public async Task A_pod_reading_from_Redis_keeps_the_value_in_L1_no_longer_than_Redis_does()
    {
        await using var a = await Pod.StartAsync(redis.Server, prefix: "remaining");
        await using var b = await Pod.StartAsync(redis.Server, prefix: "remaining");
        await a.Cache.SetAsync("k", B("v"), new CacheEntryOptions(Expiry: TimeSpan.FromMilliseconds(500), LocalExpiry: TimeSpan.FromMinutes(5)));

        Assert.Equal(B("v"), await b.Cache.GetAsync("k"));
        await Task.Delay(700);

        Assert.Null(await b.Cache.GetAsync("k"));
    }

    [Fact]
    public async Task Returned_arrays_are_copies()
    {
        await using var pod = await Pod.StartAsync(redis.Server, prefix: "copy");
        await pod.Cache.SetAsync("k", B("abc"));

        var first = (await pod.Cache.GetAsync("k"))!;
        first[0] = (byte)'X';

        Assert.Equal(B("abc"), await pod.Cache.GetAsync("k"));
    }

    private static byte[] B(string text) => Encoding.UTF8.GetBytes(text);
}
