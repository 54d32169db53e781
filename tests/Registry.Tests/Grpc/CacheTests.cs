using Microservices.TestSupport;
using Grpc.Core;
using Microservices.Registry.V1;
using Microsoft.Data.Sqlite;

namespace Microservices.Registry.Tests.Grpc;

/// <summary>
/// Get and alias resolution read through the two-level cache; writes invalidate it everywhere.
/// Two registry hosts on ONE SQLite file and a real redis-server started here.
/// </summary>
public sealed class CacheTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private RedisServer _redis = null!;

    private string Database => _directory.File("shared.db");

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _redis.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task A_write_on_one_instance_is_seen_by_every_reader_of_the_other()
    {
        var settings = _redis.Settings;
        await using var a = await RegistryHost.StartAsync(Database, settings);
        await using var b = await RegistryHost.StartAsync(Database, settings);

        var registered = await a.Client.RegisterAsync(Rpc.NewModel("alice", "m1", alias: "one"), Rpc.Timeout);
        Assert.Equal("main", (await b.Client.GetByIdAsync("alice", "m1")).Branch);
        Assert.Equal("main", (await b.Client.GetByAliasAsync("alice", "one")).Branch);

        // Proof that reads are served from the cache: a change made behind the registry's back is not seen.
        await ChangeBehindTheRegistryAsync("UPDATE models SET branch = 'behind' WHERE model_id = 'm1'");
        Assert.Equal("main", (await b.Client.GetByIdAsync("alice", "m1")).Branch);
        Assert.Equal("main", (await a.Client.GetByAliasAsync("alice", "one")).Branch);

        await a.Client.SetStatusAsync(new SetStatusRequest { Owner = "alice", ModelId = "m1", Status = ModelStatus.Running, ExpectedVersion = registered.Version }, Rpc.Timeout);
        await EveryReaderSeesAsync([a, b], m => m.Status == ModelStatus.Running && m.Branch == "behind", byAlias: "one");

        // An alias that moves: the old alias resolves nowhere, the new one everywhere.
        await a.Client.SetAliasAsync(new SetAliasRequest { Owner = "alice", ModelId = "m1", Alias = "uno" }, Rpc.Timeout);
        await InvalidatedAsync(async () => (await Rpc.FailsAsync(() => b.Client.GetByAliasAsync("alice", "one"))).StatusCode == StatusCode.NotFound);
        await EveryReaderSeesAsync([a, b], m => m.Alias == "uno", byAlias: "uno");

        await b.Client.DeleteAsync(new DeleteModelRequest { Owner = "alice", ModelId = "m1", Force = true }, Rpc.Timeout);
        await InvalidatedAsync(async () => (await Rpc.FailsAsync(() => a.Client.GetByIdAsync("alice", "m1"))).StatusCode == StatusCode.NotFound);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(StatusCode.NotFound, (await Rpc.FailsAsync(() => a.Client.GetByAliasAsync("alice", "uno"))).StatusCode);
            Assert.Equal(StatusCode.NotFound, (await Rpc.FailsAsync(() => b.Client.GetByIdAsync("alice", "m1"))).StatusCode);
        }
    }

    [Fact]
    public async Task Concurrent_reads_during_writes_never_leave_an_old_value_behind()
    {
        var settings = _redis.Settings;
        await using var a = await RegistryHost.StartAsync(Database, settings);
        await using var b = await RegistryHost.StartAsync(Database, settings);
        var model = await a.Client.RegisterAsync(Rpc.NewModel("alice", "m1", alias: "one"), Rpc.Timeout);

        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
        {
            var client = i % 2 == 0 ? a.Client : b.Client;
            while (!stop.IsCancellationRequested)
            {
                await (i < 2 ? client.GetByIdAsync("alice", "m1") : client.GetByAliasAsync("alice", "one"));
            }
        })).ToList();

        for (var i = 0; i < 20; i++)
        {
            var writer = i % 2 == 0 ? a : b;
            model = await writer.Client.UpdateAsync(new UpdateModelRequest
            {
                Owner = "alice",
                ModelId = "m1",
                Model = new Model { Branch = $"b{i}" },
                UpdateMask = new Google.Protobuf.WellKnownTypes.FieldMask { Paths = { "branch" } },
                ExpectedVersion = model.Version,
            }, Rpc.Timeout);
        }

        stop.Cancel();
        await Task.WhenAll(readers);
        await EveryReaderSeesAsync([a, b], m => m.Version == model.Version && m.Branch == "b19", byAlias: "one");
    }

    [Fact]
    public async Task A_read_that_loaded_the_old_row_before_a_write_cannot_put_it_back_into_the_cache()
    {
        var settings = _redis.Settings;
        await using var a = await RegistryHost.StartAsync(Database, settings);
        await using var b = await RegistryHost.StartAsync(Database, settings);
        await a.Client.RegisterAsync(Rpc.NewModel("alice", "m1", alias: "one"), Rpc.Timeout);
        Assert.Equal(ModelStatus.Ready, (await b.Client.GetByIdAsync("alice", "m1")).Status);
        var cache = b.Service<Microservices.Caching.ITwoLevelCache>();
        var key = Registry.Caching.CachingModelStore.IdKey("alice", "m1");
        var old = await cache.GetAsync(key);
        Assert.NotNull(old);
        await cache.RemoveAsync(key);

        // B's read loads the READY row, then stalls (a slow origin, a GC pause) while A commits
        // RUNNING and invalidates; only then does B's load try to fill the cache.
        var loadedOld = new TaskCompletionSource();
        var writeReturned = new TaskCompletionSource();
        var racingRead = cache.GetOrCreateAsync(key, async _ =>
        {
            loadedOld.SetResult();
            await writeReturned.Task;
            return old;
        });
        await loadedOld.Task;
        await a.Client.SetStatusAsync(new SetStatusRequest { Owner = "alice", ModelId = "m1", Status = ModelStatus.Running }, Rpc.Timeout);
        writeReturned.SetResult();
        await racingRead;

        await EveryReaderSeesAsync([a, b], m => m.Status == ModelStatus.Running, byAlias: "one");
    }

    [Fact]
    public async Task Without_redis_two_instances_on_one_file_need_the_cache_off()
    {
        // No Redis: no instance hears of another's writes. Cache mode "off" keeps them correct.
        var settings = new Dictionary<string, string?> { ["Registry:Cache:Mode"] = "off" };
        await using var a = await RegistryHost.StartAsync(Database, settings);
        await using var b = await RegistryHost.StartAsync(Database, settings);
        await a.Client.RegisterAsync(Rpc.NewModel("alice", "m1", alias: "one"), Rpc.Timeout);
        Assert.Equal(ModelStatus.Ready, (await b.Client.GetByAliasAsync("alice", "one")).Status);

        await a.Client.SetStatusAsync(new SetStatusRequest { Owner = "alice", ModelId = "m1", Status = ModelStatus.Running }, Rpc.Timeout);
        Assert.Equal(ModelStatus.Running, (await b.Client.GetByAliasAsync("alice", "one")).Status);
        Assert.Equal(ModelStatus.Running, (await b.Client.GetByIdAsync("alice", "m1")).Status);
    }

    [Fact]
    public async Task Without_redis_one_instance_caches_in_process_and_sees_its_own_writes()
    {
        await using var host = await RegistryHost.StartAsync(Database);
        await host.Client.RegisterAsync(Rpc.NewModel("alice", "m1", alias: "one"), Rpc.Timeout);
        Assert.Equal("main", (await host.Client.GetByAliasAsync("alice", "one")).Branch);

        await ChangeBehindTheRegistryAsync("UPDATE models SET branch = 'behind' WHERE model_id = 'm1'");
        Assert.Equal("main", (await host.Client.GetByIdAsync("alice", "m1")).Branch);

        await host.Client.SetStatusAsync(new SetStatusRequest { Owner = "alice", ModelId = "m1", Status = ModelStatus.Running }, Rpc.Timeout);
        var seen = await host.Client.GetByAliasAsync("alice", "one");
        Assert.Equal((ModelStatus.Running, "behind"), (seen.Status, seen.Branch));
    }

    // After the write returned, the invalidation reaches the other instance within moments; from
    // then on no read, by id or alias, on either instance may return the old value.
    private static async Task EveryReaderSeesAsync(RegistryHost[] hosts, Func<Model, bool> isNew, string byAlias)
    {
        await InvalidatedAsync(async () => isNew(await hosts[^1].Client.GetByIdAsync("alice", "m1")));
        for (var i = 0; i < 50; i++)
        {
            foreach (var host in hosts)
            {
                Assert.True(isNew(await host.Client.GetByIdAsync("alice", "m1")), $"read {i} by id on {host.Port} saw an old value");
                Assert.True(isNew(await host.Client.GetByAliasAsync("alice", byAlias)), $"read {i} by alias on {host.Port} saw an old value");
            }
        }
    }

    // Pub/sub normally delivers in milliseconds; 10 s leaves room for a CI machine whose two cores
    // also run the export tests' S3 server and hosts (2 s was once too little there). What the tests
    // assert is that after the invalidation no read sees the old value, not how fast it arrives.
    private static Task InvalidatedAsync(Func<Task<bool>> condition) =>
        Eventually.HoldsAsync(condition, "the invalidation arrived", TimeSpan.FromSeconds(10));

    private async Task ChangeBehindTheRegistryAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={Database};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }
}
