using Microservices.Registry.Changes;
using Microservices.Registry.Models;
using Microservices.Registry.Repositories;
using Microsoft.Extensions.Logging.Abstractions;

namespace Microservices.Registry.Tests;

/// <summary>Two replicas on one real PostgreSQL database: a Watch on one sees the other's writes, once.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresChangeRelayTests(PostgresServer server)
{
    [Fact]
    public async Task A_watch_on_one_replica_sees_every_change_committed_on_another()
    {
        var database = await server.CreateDatabaseAsync();
        await using var a = await Replica.StartAsync(database);
        await using var b = await Replica.StartAsync(database);
        using var watch = a.Feed.Watch("alice");
        var seen = Collect(watch);

        var created = await b.Registry.RegisterAsync(Model("org/repo/first.gguf"), default);
        await b.Registry.SetStatusAsync("alice", created.ModelId, ModelStatus.Running, 0, default);
        await a.Registry.RegisterAsync(Model("org/repo/second.gguf"), default);
        await b.Registry.DeleteAsync("alice", created.ModelId, force: true, 0, default);

        var changes = await seen.Take(4);
        // B's changes arrive in B's commit order; A's own write is among them exactly once.
        Assert.Equal(
            [ModelChangeKind.Created, ModelChangeKind.Updated, ModelChangeKind.Deleted],
            changes.Where(c => c.ModelId == "org/repo/first.gguf").Select(c => c.Kind));
        Assert.Single(changes, c => c.ModelId == "org/repo/second.gguf" && c.Kind == ModelChangeKind.Created);
        Assert.Equal(ModelStatus.Running, changes.Single(c => c.Kind == ModelChangeKind.Updated).Model.Status);

        // A's own write was delivered once: not a second time through its own notification.
        await Task.Delay(500);
        Assert.False(seen.HasMore);
    }

    private static NewModel Model(string id) => new()
    {
        Owner = "alice", ModelId = id, SourceType = SourceType.HuggingFace, AuthorRepo = "org/repo", Branch = "main", ConfigPath = "m.yaml",
    };

    private static Collector Collect(ModelWatch watch) => new(watch);

    private sealed class Collector
    {
        private readonly ModelWatch _watch;

        public Collector(ModelWatch watch) => _watch = watch;

        public bool HasMore => _watch.Changes.TryPeek(out _);

        public async Task<List<ModelChange>> Take(int count)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            var changes = new List<ModelChange>();
            await foreach (var change in _watch.ReadAllAsync(timeout.Token))
            {
                changes.Add(change);
                if (changes.Count == count)
                {
                    break;
                }
            }

            return changes;
        }
    }

    private sealed class Replica : IAsyncDisposable
    {
        private readonly PostgresChangeRelay _relay;
        private readonly PostgresModelStore _store;

        private Replica(PostgresModelStore store, ModelChangeFeed feed, PostgresChangeRelay relay)
        {
            _store = store;
            Feed = feed;
            _relay = relay;
            Registry = new ModelRegistry(store, feed, TimeProvider.System);
        }

        public ModelChangeFeed Feed { get; }

        public ModelRegistry Registry { get; }

        public static async Task<Replica> StartAsync(string connectionString)
        {
            var store = new PostgresModelStore(new PostgresStoreOptions { ConnectionString = connectionString });
            await store.InitializeAsync(default);
            var feed = new ModelChangeFeed();
            var relay = new PostgresChangeRelay(connectionString, feed, store, NullLogger<PostgresChangeRelay>.Instance);
            await relay.StartAsync(default);
            return new Replica(store, feed, relay);
        }

        public async ValueTask DisposeAsync()
        {
            await _relay.DisposeAsync();
            await _store.DisposeAsync();
        }
    }
}
