using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microservices.Registry.V1;
using Microservices.TestSupport;

namespace Microservices.Registry.Tests.Grpc;

/// <summary>
/// ImportModels and List's total_count through a real host and the generated client, as the
/// export service calls them: the stream, its limits, the status codes, Watch and the cache.
/// Each subclass runs them on one store; the cache is on in both.
/// </summary>
public abstract class ImportModelsRpcTests : IAsyncLifetime
{
    private protected readonly TempDirectory Directory = new();
    private RegistryHost _host = null!;

    private ModelRegistryClient Client => _host.Client;

    public async Task InitializeAsync() => _host = await RegistryHost.StartAsync(Directory.File("registry.db"), await StoreSettingsAsync());

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        Directory.Dispose();
    }

    private protected abstract Task<Dictionary<string, string?>> StoreSettingsAsync();

    // The fields Register would get, as an exported Model.
    private static Model Archived(string id, string alias = "")
    {
        var fields = Rpc.NewModel("", id, alias);
        return new Model { ModelId = id, SourceType = fields.SourceType, AuthorRepo = fields.AuthorRepo, Branch = fields.Branch, ConfigPath = fields.ConfigPath, Alias = alias };
    }

    private async Task<ImportModelsResponse> ImportAsync(string owner, bool dryRun, params IEnumerable<Model>[] messages)
    {
        using var call = Client.ImportModels(Rpc.As(owner));
        var first = true;
        var offset = 0;
        foreach (var models in messages)
        {
            var request = first ? new ImportModelsRequest { Owner = owner, DryRun = dryRun } : new ImportModelsRequest { Offset = offset };
            request.Models.AddRange(models);
            offset += request.Models.Count;
            await call.RequestStream.WriteAsync(request);
            first = false;
        }

        await call.RequestStream.CompleteAsync();
        return await call;
    }

    // The server may refuse while the client is still writing; the call's status is what counts.
    private async Task<RpcException> RefusedAsync(string owner, IEnumerable<IEnumerable<Model>> messages, string? caller = null)
    {
        using var call = Client.ImportModels(Rpc.As(caller ?? owner));
        await ServerEndedWrite.IgnoringRefusalAsync(async () =>
        {
            var first = true;
            var offset = 0;
            foreach (var models in messages)
            {
                var request = first ? new ImportModelsRequest { Owner = owner } : new ImportModelsRequest { Offset = offset };
                request.Models.AddRange(models);
                offset += request.Models.Count;
                await call.RequestStream.WriteAsync(request);
                first = false;
            }

            await call.RequestStream.CompleteAsync();
        });

        return await Rpc.FailsAsync(() => call.ResponseAsync);
    }

    private async Task<List<Model>> ListAsync(string owner) =>
        [.. (await Client.ListAsync(new ListModelsRequest { Owner = owner, PageSize = 500 }, Rpc.Timeout)).Models];

    [Fact]
    public async Task Imports_models_from_several_messages_keeping_timestamps_and_a_second_call_changes_nothing()
    {
        var created = Timestamp.FromDateTimeOffset(new DateTimeOffset(2021, 3, 4, 5, 6, 7, 891, TimeSpan.Zero));
        var updated = Timestamp.FromDateTimeOffset(new DateTimeOffset(2022, 8, 9, 10, 11, 12, 345, TimeSpan.Zero));
        var kept = Archived("org/a.gguf", "a");
        (kept.Owner, kept.Version, kept.CreatedAt, kept.UpdatedAt, kept.Status) = ("someone-else", 7, created, updated, ModelStatus.Running);
        kept.Tags["stage"] = "prod";
        Model[] firstMessage = [kept, Archived("org/b.gguf")];
        Model[] secondMessage = [Archived("org/c.gguf", "c")];

        var report = await ImportAsync("alice", false, firstMessage, secondMessage);

        Assert.Equal(new ImportModelsResponse { Committed = true, Imported = 3 }, report);
        var a = await Client.GetByAliasAsync("alice", "a");
        Assert.Equal(("alice", 1L, created, updated, ModelStatus.Running, "prod"), (a.Owner, a.Version, a.CreatedAt, a.UpdatedAt, a.Status, a.Tags["stage"]));
        Assert.Equal("b", (await Client.GetByIdAsync("alice", "org/b.gguf")).Alias);
        Assert.Empty(await ListAsync("someone-else"));
        var before = await ListAsync("alice");

        var again = await ImportAsync("alice", false, firstMessage, secondMessage);

        Assert.Equal(new ImportModelsResponse { Committed = true, Unchanged = 3 }, again);
        Assert.Equal(before, await ListAsync("alice"));
    }

    [Fact]
    public async Task Conflicts_come_back_with_kind_alias_and_message_and_nothing_is_written()
    {
        await Client.RegisterAsync(Rpc.NewModel("alice", "org/a.gguf", alias: "a"), Rpc.Timeout);
        var differs = Archived("org/a.gguf");
        differs.Branch = "dev";

        var report = await ImportAsync("alice", false, [Archived("org/new.gguf", "new"), differs, Archived("org/b.gguf", "a")]);

        Assert.False(report.Committed);
        Assert.Equal((1, 0, 2), (report.Imported, report.Unchanged, report.ConflictCount));
        Assert.Equal(
            [("org/a.gguf", "", ConflictKind.ModelExists), ("org/b.gguf", "a", ConflictKind.AliasTaken)],
            report.Conflicts.Select(c => (c.ModelId, c.Alias, c.Kind)));
        Assert.Contains("different branch", report.Conflicts[0].Message);
        Assert.Contains("used by model 'org/a.gguf'", report.Conflicts[1].Message);
        Assert.Equal(["org/a.gguf"], (await ListAsync("alice")).Select(m => m.ModelId));
    }

    [Fact]
    public async Task Dry_run_is_read_from_the_first_message_only_and_writes_nothing()
    {
        var report = await ImportAsync("alice", true, [Archived("org/a.gguf")], [Archived("org/b.gguf")]);

        Assert.Equal(new ImportModelsResponse { Committed = false, Imported = 2 }, report);
        Assert.Empty(await ListAsync("alice"));
    }

    [Fact]
    public async Task A_message_of_501_models_is_invalid_argument_naming_the_limit()
    {
        var e = await RefusedAsync("alice", [Enumerable.Range(0, 501).Select(i => Archived($"org/m{i}.gguf"))]);

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith("models: at most 500 models per message, got 501", e.Status.Detail);
        Assert.Empty(await ListAsync("alice"));
    }

    [Fact]
    public async Task More_than_100000_models_in_one_call_is_resource_exhausted_naming_the_limit()
    {
        var messages = Enumerable.Range(0, 201).Select(m => Enumerable.Range(0, 500).Select(i => Archived($"m{m}-{i}")));

        var e = await RefusedAsync("alice", messages);

        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains("at most 100000 models", e.Status.Detail);
        Assert.Empty(await ListAsync("alice"));
    }

    [Fact]
    public async Task A_model_id_sent_twice_in_one_call_is_invalid_argument_even_across_messages()
    {
        var e = await RefusedAsync("alice", [[Archived("org/a.gguf", "a")], [Archived("org/b.gguf"), Archived("org/a.gguf", "other")]]);

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal("models[2].model_id: 'org/a.gguf' is also models[0]; a model_id may appear once per call", e.Status.Detail);
        Assert.Empty(await ListAsync("alice"));
    }

    [Fact]
    public async Task An_invalid_field_is_invalid_argument_naming_the_model_the_field_and_the_rule()
    {
        var noSource = Archived("org/b.gguf");
        noSource.SourceType = SourceType.Unspecified;
        var badTime = Archived("org/c.gguf");
        badTime.CreatedAt = new Timestamp { Seconds = 1, Nanos = -5 };

        var unprintable = Archived("bad\u0007id");
        unprintable.SourceType = SourceType.Unspecified;

        var source = await RefusedAsync("alice", [[Archived("org/a.gguf")], [noSource]]);
        var unprintableId = await RefusedAsync("alice", [[unprintable]]);
        var time = await RefusedAsync("alice", [[badTime]]);
        var owner = await RefusedAsync("bob", [[Archived("org/a.gguf")]], caller: "alice");

        Assert.Equal(StatusCode.InvalidArgument, source.StatusCode);
        Assert.Equal("models[1].source_type: is required: one of SOURCE_TYPE_HUGGINGFACE, SOURCE_TYPE_CORTEX_SO, SOURCE_TYPE_LOCAL (model_id 'org/b.gguf')", source.Status.Detail);
        Assert.Equal("models[0].source_type: is required: one of SOURCE_TYPE_HUGGINGFACE, SOURCE_TYPE_CORTEX_SO, SOURCE_TYPE_LOCAL", unprintableId.Status.Detail);
        Assert.Equal(StatusCode.InvalidArgument, time.StatusCode);
        Assert.StartsWith("models[0].created_at: is not a valid timestamp", time.Status.Detail);
        Assert.EndsWith("(model_id 'org/c.gguf')", time.Status.Detail);
        Assert.Equal(StatusCode.PermissionDenied, owner.StatusCode);
        Assert.Equal("owner must be empty or the caller's own (the token's subject)", owner.Status.Detail);
        Assert.Empty(await ListAsync("alice"));
    }

    [Fact]
    public async Task An_empty_stream_is_invalid_argument_naming_the_owner()
    {
        var e = await RefusedAsync("alice", []);

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith("owner:", e.Status.Detail);
    }

    [Fact]
    public async Task A_stream_without_its_first_message_is_refused_and_writes_nothing()
    {
        // What the server sees when a transport re-sends the call without its start: the second
        // message first, with no dry_run. It must not be imported from there.
        using var call = Client.ImportModels(Rpc.As("alice"));
        var second = new ImportModelsRequest { Offset = 1 };
        second.Models.Add(Archived("org/b.gguf"));
        await ServerEndedWrite.IgnoringRefusalAsync(async () =>
        {
            await call.RequestStream.WriteAsync(second);
            await call.RequestStream.CompleteAsync();
        });

        var e = await Rpc.FailsAsync(() => call.ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith("offset: this message's models start at 1, but 0 came before it", e.Status.Detail);
        Assert.Empty(await ListAsync("alice"));
    }

    [Fact]
    public async Task A_message_whose_offset_does_not_follow_on_is_refused_and_nothing_is_written()
    {
        var e = await RefusedWithOffsetsAsync([0, 0]);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith("offset: this message's models start at 0, but 1 came before it", e.Status.Detail);

        e = await RefusedWithOffsetsAsync([0, 2]);
        Assert.StartsWith("offset: this message's models start at 2, but 1 came before it", e.Status.Detail);
        Assert.Empty(await ListAsync("alice"));

        async Task<RpcException> RefusedWithOffsetsAsync(long[] offsets)
        {
            using var call = Client.ImportModels(Rpc.As("alice"));
            await ServerEndedWrite.IgnoringRefusalAsync(async () =>
            {
                for (var i = 0; i < offsets.Length; i++)
                {
                    var request = new ImportModelsRequest { Owner = i == 0 ? "alice" : "", Offset = offsets[i] };
                    request.Models.Add(Archived($"org/m{i}.gguf"));
                    await call.RequestStream.WriteAsync(request);
                }

                await call.RequestStream.CompleteAsync();
            });

            return await Rpc.FailsAsync(() => call.ResponseAsync);
        }
    }

    [Fact]
    public async Task A_call_cancelled_midway_writes_nothing()
    {
        using var cancel = new CancellationTokenSource();
        using (var call = Client.ImportModels(new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: cancel.Token)))
        {
            var first = new ImportModelsRequest { Owner = "alice" };
            first.Models.AddRange(Enumerable.Range(0, 500).Select(i => Archived($"org/m{i}.gguf")));
            await call.RequestStream.WriteAsync(first);
            var second = new ImportModelsRequest { Offset = 500 };
            second.Models.Add(Archived("org/last.gguf"));
            await call.RequestStream.WriteAsync(second);
            await cancel.CancelAsync();
            Assert.Equal(StatusCode.Cancelled, (await Rpc.FailsAsync(() => call.ResponseAsync)).StatusCode);
        }

        // A later import of the owner commits after anything the cancelled call could have written.
        Assert.True((await ImportAsync("alice", false, [Archived("org/after.gguf")])).Committed);
        Assert.Equal(["org/after.gguf"], (await ListAsync("alice")).Select(m => m.ModelId));
    }

    [Fact]
    public async Task Watch_sees_a_created_change_for_every_imported_model()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var watch = Client.Watch(new WatchRequest { Owner = "alice" }, new CallOptions(cancellationToken: cts.Token));
        await watch.ResponseHeadersAsync;

        await ImportAsync("bob", false, [Archived("org/theirs.gguf")]);
        await ImportAsync("alice", false, [Archived("org/a.gguf"), Archived("org/b.gguf")], [Archived("org/c.gguf")]);

        var seen = new List<(ChangeKind, string, long)>();
        while (seen.Count < 3 && await watch.ResponseStream.MoveNext(cts.Token))
        {
            var change = watch.ResponseStream.Current;
            seen.Add((change.Kind, change.ModelId, change.Model.Version));
        }

        Assert.Equal([(ChangeKind.Created, "org/a.gguf", 1L), (ChangeKind.Created, "org/b.gguf", 1L), (ChangeKind.Created, "org/c.gguf", 1L)], seen);
    }

    [Fact]
    public async Task A_model_looked_up_before_its_import_is_found_after_it()
    {
        // Absent lookups and a cached alias entry whose model has since moved on: neither may hide the import.
        await Client.RegisterAsync(Rpc.NewModel("alice", "org/old.gguf", alias: "wanted"), Rpc.Timeout);
        Assert.Equal("org/old.gguf", (await Client.GetByAliasAsync("alice", "wanted")).ModelId);
        await Client.SetAliasAsync(new SetAliasRequest { Owner = "alice", ModelId = "org/old.gguf", Alias = "moved" }, Rpc.Timeout);
        Assert.Equal(StatusCode.NotFound, (await Rpc.FailsAsync(() => Client.GetByIdAsync("alice", "org/new.gguf"))).StatusCode);

        await ImportAsync("alice", false, [Archived("org/new.gguf", "wanted")]);

        Assert.Equal("wanted", (await Client.GetByIdAsync("alice", "org/new.gguf")).Alias);
        Assert.Equal("org/new.gguf", (await Client.GetByAliasAsync("alice", "wanted")).ModelId);
    }

    [Fact]
    public async Task List_total_count_counts_the_filters_matches_only_when_asked()
    {
        await ImportAsync("alice", false, Enumerable.Range(0, 5).Select(i =>
        {
            var model = Archived($"org/m{i}.gguf");
            model.Status = i < 2 ? ModelStatus.Running : ModelStatus.Ready;
            return model;
        }));
        await ImportAsync("bob", false, [Archived("org/theirs.gguf")]);

        var counted = await Client.ListAsync(new ListModelsRequest { Owner = "alice", PageSize = 2, IncludeTotalCount = true }, Rpc.Timeout);
        var next = await Client.ListAsync(new ListModelsRequest { Owner = "alice", PageSize = 2, IncludeTotalCount = true, PageToken = counted.NextPageToken }, Rpc.Timeout);
        var running = await Client.ListAsync(new ListModelsRequest { Owner = "alice", PageSize = 1, Status = ModelStatus.Running, IncludeTotalCount = true }, Rpc.Timeout);
        var uncounted = await Client.ListAsync(new ListModelsRequest { Owner = "alice", PageSize = 2 }, Rpc.Timeout);

        Assert.Equal((2, 5L), (counted.Models.Count, counted.TotalCount));
        Assert.Equal(5L, next.TotalCount);
        Assert.Equal((1, 2L), (running.Models.Count, running.TotalCount));
        Assert.Equal(0L, uncounted.TotalCount);
        Assert.Equal(counted.Models, uncounted.Models);
    }
}

public sealed class SqliteImportModelsRpcTests : ImportModelsRpcTests
{
    private protected override Task<Dictionary<string, string?>> StoreSettingsAsync() =>
        Task.FromResult(new Dictionary<string, string?> { ["Registry:Cache:Mode"] = "on" });
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresImportModelsRpcTests(PostgresServer server) : ImportModelsRpcTests
{
    private protected override async Task<Dictionary<string, string?>> StoreSettingsAsync() => new()
    {
        ["Registry:Store:Kind"] = "postgres",
        ["Registry:Store:Postgres:ConnectionString"] = await server.CreateDatabaseAsync(),
        ["Registry:Cache:Mode"] = "on",
    };
}
