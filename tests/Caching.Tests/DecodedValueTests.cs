using System.Text;
using Microservices.Caching.L1;
using Microservices.TestSupport;

namespace Microservices.Caching.Tests;

/// <summary>
/// The decoded overload of GetOrCreateAsync: an L1 hit hands back the object decoded the first
/// time, and a write or an invalidation from another pod always means a fresh decode of new bytes.
/// </summary>
public sealed class DecodedValueTests(SharedRedisServer redis) : IClassFixture<SharedRedisServer>
{
    private sealed record Decoded(string Text);

    [Fact]
    public async Task An_L1_hit_returns_the_instance_decoded_the_first_time_without_decoding_again()
    {
        await using var pod = await Pod.StartAsync(redis.Server, prefix: "decoded-hit");
        var decodes = 0;
        Decoded Decode(byte[] bytes)
        {
            Interlocked.Increment(ref decodes);
            return new Decoded(Encoding.UTF8.GetString(bytes));
        }

        var first = await pod.Cache.GetOrCreateAsync("k", _ => Task.FromResult<byte[]?>(B("v1")), Decode);
        var second = await pod.Cache.GetOrCreateAsync("k", _ => throw new InvalidOperationException("not loaded again"), Decode);
        var third = await pod.Cache.GetOrCreateAsync("k", _ => throw new InvalidOperationException("not loaded again"), Decode);

        Assert.Equal(new Decoded("v1"), first);
        Assert.Same(second, third);
        Assert.Equal(2, decodes); // once for the load's caller, once for the first hit
    }

    [Fact]
    public async Task A_write_on_another_pod_is_decoded_afresh_never_served_from_the_old_memo()
    {
        await using var a = await Pod.StartAsync(redis.Server, prefix: "decoded-inval");
        await using var b = await Pod.StartAsync(redis.Server, prefix: "decoded-inval");
        await Eventually.SubscribersAsync(a.Redis, "decoded-inval:v1:__invalidate", 2);
        static Decoded Decode(byte[] bytes) => new(Encoding.UTF8.GetString(bytes));

        Assert.Equal("v1", (await b.Cache.GetOrCreateAsync("k", _ => Task.FromResult<byte[]?>(B("v1")), Decode))!.Text);
        Assert.Equal("v1", (await b.Cache.GetOrCreateAsync("k", _ => Task.FromResult<byte[]?>(B("unused")), Decode))!.Text);

        await a.Cache.SetAsync("k", B("v2"));

        await Eventually.TrueAsync(
            async () => (await b.Cache.GetOrCreateAsync("k", _ => Task.FromResult<byte[]?>(B("from-origin")), Decode))!.Text == "v2",
            "B decodes A's write");
    }

    [Fact]
    public async Task A_local_remove_drops_the_memo_with_the_bytes()
    {
        await using var pod = await Pod.StartAsync(redis.Server, prefix: "decoded-remove");
        static Decoded Decode(byte[] bytes) => new(Encoding.UTF8.GetString(bytes));
        await pod.Cache.GetOrCreateAsync("k", _ => Task.FromResult<byte[]?>(B("old")), Decode);
        await pod.Cache.GetOrCreateAsync("k", _ => Task.FromResult<byte[]?>(B("unused")), Decode);

        await pod.Cache.RemoveAsync("k");

        Assert.Equal("new", (await pod.Cache.GetOrCreateAsync("k", _ => Task.FromResult<byte[]?>(B("new")), Decode))!.Text);
    }

    [Fact]
    public async Task Hits_racing_removals_never_return_an_entry_after_its_removal_returned()
    {
        var cache = new LruMemoryCache(maxBytes: 1 << 20, new ManualTimeProvider());
        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                cache.TryGet("k", out byte[] _);
                cache.TryGet("other", out byte[] _);
            }
        })).ToArray();

        for (var round = 0; round < 20_000; round++)
        {
            cache.Set("k", [1], TimeSpan.FromMinutes(1));
            cache.Set("other", [2], TimeSpan.FromMinutes(1));
            Assert.True(cache.Remove("k"));
            Assert.False(cache.TryGet("k", out byte[] _));
        }

        stop.Cancel();
        await Task.WhenAll(readers);
        Assert.Equal(1, cache.Count);
        Assert.Equal(1 + 10 + 96, cache.Bytes);
    }

    private static byte[] B(string text) => Encoding.UTF8.GetBytes(text);
}
