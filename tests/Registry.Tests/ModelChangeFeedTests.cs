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

        var delivered = new List<string>();
        var e = await Assert.ThrowsAsync<RegistryException>(async () =>
        {
            await foreach (var change in slow.ReadAllAsync(default))
            {
                delivered.Add(change.ModelId);
            }
        });

        Assert.Equal(["m0", "m1"], delivered);
        Assert.Equal(RegistryErrorKind.Aborted, e.Kind);
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
}
