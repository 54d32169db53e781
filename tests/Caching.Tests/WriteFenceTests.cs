using Microservices.TestSupport;
using System.Text;

namespace Microservices.Caching.Tests;

/// <summary>
/// Cache-aside's race: a reader loads the old value from the origin, a writer changes the origin
/// and invalidates, then the reader's fill reaches Redis. The fill must not land, or every pod
/// would serve the old value until it expires.
/// </summary>
public sealed class WriteFenceTests(SharedRedisServer redis) : IClassFixture<SharedRedisServer>
{
    [Fact]
    public async Task A_load_that_read_the_origin_before_a_remove_does_not_put_the_old_value_into_Redis()
    {
        await using var reader = await Pod.StartAsync(redis.Server, prefix: "race-remove");
        await using var writer = await Pod.StartAsync(redis.Server, prefix: "race-remove");
        await using var third = await Pod.StartAsync(redis.Server, prefix: "race-remove");
        await Eventually.SubscribersAsync(reader.Redis, "race-remove:v1:__invalidate", 3);
        var origin = "old";
        var loadedOld = new TaskCompletionSource();
        var writeDone = new TaskCompletionSource();

        var slowRead = reader.Cache.GetOrCreateAsync("k", async _ =>
        {
            var seen = origin;
            loadedOld.SetResult();
            await writeDone.Task;
            return B(seen);
        });
        await loadedOld.Task;
        origin = "new";
        await writer.Cache.RemoveAsync("k");
        writeDone.SetResult();

        // The slow read itself started before the write; returning what it read is fine.
        Assert.Equal(B("old"), await slowRead);
        Assert.Null(await writer.Db.GetBytesAsync("race-remove:v1:k"));
        Assert.Equal(B("new"), await third.Cache.GetOrCreateAsync("k", _ => Task.FromResult<byte[]?>(B(origin))));
        await Eventually.TrueAsync(
            async () => (await reader.Cache.GetOrCreateAsync("k", _ => Task.FromResult<byte[]?>(B(origin))))!.SequenceEqual(B("new")),
            "the reader's next read sees the new value");
    }

    [Fact]
    public async Task A_load_racing_a_write_through_set_leaves_the_written_value_in_Redis()
    {
        await using var reader = await Pod.StartAsync(redis.Server, prefix: "race-set");
        await using var writer = await Pod.StartAsync(redis.Server, prefix: "race-set");
        var loadedOld = new TaskCompletionSource();
        var writeDone = new TaskCompletionSource();

        var slowRead = reader.Cache.GetOrCreateAsync("k", async _ =>
        {
            loadedOld.SetResult();
            await writeDone.Task;
            return B("old");
        });
        await loadedOld.Task;
        await writer.Cache.SetAsync("k", B("new"));
        writeDone.SetResult();
        await slowRead;

        Assert.Equal(B("new"), Stored.Payload(await writer.Db.GetBytesAsync("race-set:v1:k")));
    }

    [Fact]
    public async Task After_a_write_the_next_load_fills_Redis_at_once()
    {
        await using var a = await Pod.StartAsync(redis.Server, prefix: "refill");
        await using var b = await Pod.StartAsync(redis.Server, prefix: "refill");
        await a.Cache.RemoveAsync("k");
        var loads = 0;
        Task<byte[]?> Origin(CancellationToken _)
        {
            Interlocked.Increment(ref loads);
            return Task.FromResult<byte[]?>(B("v"));
        }

        Assert.Equal(B("v"), await a.Cache.GetOrCreateAsync("k", Origin));
        Assert.Equal(B("v"), await b.Cache.GetOrCreateAsync("k", Origin));

        Assert.Equal(1, loads);
        Assert.Equal(B("v"), Stored.Payload(await a.Db.GetBytesAsync("refill:v1:k")));
    }

    [Fact]
    public async Task Writes_leave_a_fence_that_expires_and_a_load_slower_than_half_of_it_does_not_fill_Redis()
    {
        await using var pod = await Pod.StartAsync(redis.Server, prefix: "fence-life", fenceLifetime: TimeSpan.FromMilliseconds(400));
        await pod.Cache.RemoveAsync("k");
        Assert.InRange(await pod.Db.PttlAsync("fence-life:v1:__fence:k"), 1, 400);

        await pod.Cache.GetOrCreateAsync("slow", async ct =>
        {
            await Task.Delay(300, ct);
            return B("v");
        });
        Assert.Null(await pod.Db.GetBytesAsync("fence-life:v1:slow"));

        await pod.Cache.GetOrCreateAsync("quick", _ => Task.FromResult<byte[]?>(B("v")));
        Assert.NotNull(await pod.Db.GetBytesAsync("fence-life:v1:quick"));
    }

    [Fact]
    public async Task Keys_in_the_caches_own_namespace_are_refused()
    {
        await using var pod = await Pod.StartAsync(redis.Server, prefix: "reserved");

        await Assert.ThrowsAsync<ArgumentException>(() => pod.Cache.SetAsync("__fence:k", B("x")));
        await Assert.ThrowsAsync<ArgumentException>(() => pod.Cache.GetAsync("__invalidate"));
        await Assert.ThrowsAsync<ArgumentException>(() => pod.Cache.RemoveAsync(""));
    }

    private static byte[] B(string text) => Encoding.UTF8.GetBytes(text);
}
