using Microservices.Registry.Changes;
using Microservices.Registry.Models;

namespace Microservices.Registry.Tests;

public sealed class ModelChangeFeedTests
{
    private static RegisteredModel Model(string owner, string id) => new()
    {
        Owner = owner, ModelId = id, SourceType = SourceType.Local, AuthorRepo = "local", Branch = "imported",
        ConfigPath = "c.yaml", Status = ModelStatus.Ready, Version = 1, CreatedAt = DateTimeOffset.UnixEpoch, UpdatedAt = DateTimeOffset.UnixEpoch,
    };

    [Fact]
    public async Task A_watcher_that_falls_behind_is_ended_with_aborted_not_silently_skipped()
    {
        var feed = new ModelChangeFeed(watcherBuffer: 2);
        using var slow = feed.Watch("alice");

        for (var i = 0; i < 3; i++)
        {
            feed.Publish(ModelChangeKind.Created, Model("alice", $"m{i}"), DateTimeOffset.UnixEpoch);
        }

        var (delivered, e) = await ReadUntilEndedAsync(slow);

        Assert.Equal(["m0", "m1"], delivered);
        Assert.Equal(RegistryErrorKind.Aborted, e.Kind);
    }

    [Fact]
    public async Task A_watcher_whose_buffer_passes_its_byte_bound_is_ended_with_aborted_though_few_changes_wait()
    {
        // Large models: three fit in neither 2 × their size in bytes, whatever the count bound.
        var big = Model("alice", "big") with { ConfigPath = new string('c', 1000) };
        var size = ModelWatch.ApproximateBytes(big);
        var feed = new ModelChangeFeed(maxBufferBytes: 2 * size);
        using var slow = feed.Watch("alice");
        using var bobs = feed.Watch("bob");

        for (var i = 0; i < 3; i++)
        {
            feed.Publish(ModelChangeKind.Created, big with { ModelId = $"m{i}" }, DateTimeOffset.UnixEpoch);
        }

        var (delivered, e) = await ReadUntilEndedAsync(slow);

        Assert.Equal(["m0", "m1"], delivered);
        Assert.Equal(RegistryErrorKind.Aborted, e.Kind);
        Assert.Contains($"{2 * size} bytes (Registry:Limits:MaxWatchBufferBytes) behind", e.Message, StringComparison.Ordinal);
        Assert.False(bobs.Changes.TryRead(out _));
    }

    [Fact]
    public async Task A_watcher_that_reads_as_changes_come_frees_its_buffer_and_is_never_ended()
    {
        var big = Model("alice", "big") with { ConfigPath = new string('c', 1000) };
        var feed = new ModelChangeFeed(maxBufferBytes: 2 * ModelWatch.ApproximateBytes(big));
        using var watch = feed.Watch("alice");
        using var reading = new CancellationTokenSource();
        await using var changes = watch.ReadAllAsync(reading.Token).GetAsyncEnumerator();

        for (var i = 0; i < 10; i++)
        {
            feed.Publish(ModelChangeKind.Created, big with { ModelId = $"m{i}" }, DateTimeOffset.UnixEpoch);
            Assert.True(await changes.MoveNextAsync());
            Assert.Equal($"m{i}", changes.Current.ModelId);
        }
    }

    /// <summary>Reads the watch to its end, which must be a RegistryException: what was delivered first, and the error.</summary>
    private static async Task<(List<string> Delivered, RegistryException Error)> ReadUntilEndedAsync(ModelWatch watch)
    {
        var delivered = new List<string>();
        var error = await Assert.ThrowsAsync<RegistryException>(async () =>
        {
            await foreach (var change in watch.ReadAllAsync(default))
            {
                delivered.Add(change.ModelId);
            }
        });
        return (delivered, error);
    }

    [Fact]
    public void Committed_event_fires_after_each_publish_and_disposed_watchers_get_nothing()
    {
        var feed = new ModelChangeFeed();
        var seen = new List<long>();
        feed.Committed += change => seen.Add(change.Sequence);
        var watch = feed.Watch("alice");
        watch.Dispose();

        feed.Publish(ModelChangeKind.Created, Model("alice", "a"), DateTimeOffset.UnixEpoch);
        feed.Publish(ModelChangeKind.Deleted, Model("alice", "a"), DateTimeOffset.UnixEpoch);

        Assert.Equal([1L, 2L], seen);
        Assert.False(watch.Changes.TryRead(out _));
    }

    [Fact]
    public void An_owner_past_its_watch_limit_is_resource_exhausted_and_others_are_not()
    {
        var feed = new ModelChangeFeed(maxWatchesPerOwner: 2);
        using var first = feed.Watch("alice");
        var second = feed.Watch("alice");

        var e = Assert.Throws<RegistryException>(() => feed.Watch("alice"));
        Assert.Equal(RegistryErrorKind.ResourceExhausted, e.Kind);
        Assert.Contains("already has 2 open watches (Registry:Limits:MaxWatchesPerOwner)", e.Message);
        using var bobs = feed.Watch("bob");

        second.Dispose();
        using var again = feed.Watch("alice");
    }
}
