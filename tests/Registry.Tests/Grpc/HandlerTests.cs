using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microservices.Registry.V1;
using Microservices.TestSupport;

namespace Microservices.Registry.Tests.Grpc;

/// <summary>Every RPC through a real host and our gRPC client, on a real SQLite file.</summary>
public sealed class HandlerTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private RegistryHost _host = null!;

    private ModelRegistryClient Client => _host.Client;

    public async Task InitializeAsync() => _host = await RegistryHost.StartAsync(_directory.File("registry.db"));

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task Register_then_get_by_id_and_by_generated_alias()
    {
        var registered = await Client.RegisterAsync(Rpc.NewModel("alice", "huggingface.co/bartowski/llama3.1-7b-gguf/Model_ID_Xxx.gguf"), Rpc.Timeout);
        Assert.Equal("model_id_xxx", registered.Alias);
        Assert.Equal(ModelStatus.Ready, registered.Status);
        Assert.Equal(SourceType.Huggingface, registered.SourceType);
        Assert.Equal(1, registered.Version);
        Assert.True(registered.CreatedAt.ToDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-1));

        Assert.Equal(registered, await Client.GetByIdAsync("alice", registered.ModelId));
        Assert.Equal(registered, await Client.GetByAliasAsync("alice", "model_id_xxx"));

        var other = await Rpc.FailsAsync(() => Client.GetByIdAsync("bob", registered.ModelId));
        Assert.Equal(StatusCode.NotFound, other.StatusCode);
    }

    [Fact]
    public async Task List_filters_orders_and_pages()
    {
        for (var i = 0; i < 5; i++)
        {
            var request = Rpc.NewModel("alice", $"m{i}");
            request.Tags["quant"] = i % 2 == 0 ? "q4" : "q8";
            await Client.RegisterAsync(request, Rpc.Timeout);
        }

        var page = await Client.ListAsync(new ListModelsRequest { Owner = "alice", Tag = new TagFilter { Key = "quant", Value = "q4" }, PageSize = 2, Descending = true }, Rpc.Timeout);
        Assert.Equal(["m4", "m2"], page.Models.Select(m => m.ModelId));
        var next = await Client.ListAsync(new ListModelsRequest { Owner = "alice", Tag = new TagFilter { Key = "quant", Value = "q4" }, PageSize = 2, Descending = true, PageToken = page.NextPageToken }, Rpc.Timeout);
        Assert.Equal(["m0"], next.Models.Select(m => m.ModelId));
        Assert.Equal("", next.NextPageToken);
    }

    [Fact]
    public async Task Update_applies_the_mask_and_refuses_a_stale_version()
    {
        var model = await Client.RegisterAsync(Rpc.NewModel("alice", "m1", alias: "one"), Rpc.Timeout);
        var update = new UpdateModelRequest
        {
            Owner = "alice",
            ModelId = "m1",
            Model = new Model { Branch = "dev", ConfigPath = "ignored.yaml", Tags = { ["k"] = "v" } },
            UpdateMask = new FieldMask { Paths = { "branch", "tags" } },
            ExpectedVersion = model.Version,
        };
        var updated = await Client.UpdateAsync(update, Rpc.Timeout);
        Assert.Equal("dev", updated.Branch);
        Assert.Equal(model.ConfigPath, updated.ConfigPath);
        Assert.Equal("v", updated.Tags["k"]);
        Assert.Equal(2, updated.Version);

        var stale = await Rpc.FailsAsync(() => Client.UpdateAsync(update, Rpc.Timeout));
        Assert.Equal(StatusCode.Aborted, stale.StatusCode);
        Assert.Contains("version 2", stale.Status.Detail);
        Assert.Equal("dev", (await Client.GetByAliasAsync("alice", "one")).Branch);
    }

    [Fact]
    public async Task Status_alias_and_delete_follow_the_rules()
    {
        await Client.RegisterAsync(Rpc.NewModel("alice", "m1", alias: "one"), Rpc.Timeout);
        var running = await Client.SetStatusAsync(new SetStatusRequest { Owner = "alice", ModelId = "m1", Status = ModelStatus.Running }, Rpc.Timeout);
        Assert.Equal(ModelStatus.Running, running.Status);

        var blocked = await Rpc.FailsAsync(() => Client.DeleteAsync(new DeleteModelRequest { Owner = "alice", ModelId = "m1" }, Rpc.Timeout));
        Assert.Equal(StatusCode.FailedPrecondition, blocked.StatusCode);
        Assert.Contains("RUNNING", blocked.Status.Detail);

        var renamed = await Client.SetAliasAsync(new SetAliasRequest { Owner = "alice", ModelId = "m1", Alias = "uno" }, Rpc.Timeout);
        Assert.Equal("uno", renamed.Alias);
        Assert.Equal(StatusCode.NotFound, (await Rpc.FailsAsync(() => Client.GetByAliasAsync("alice", "one"))).StatusCode);
        Assert.Equal("m1", (await Client.GetByAliasAsync("alice", "uno")).ModelId);

        var bare = await Client.RemoveAliasAsync(new RemoveAliasRequest { Owner = "alice", ModelId = "m1" }, Rpc.Timeout);
        Assert.Equal("", bare.Alias);
        Assert.Equal(StatusCode.NotFound, (await Rpc.FailsAsync(() => Client.GetByAliasAsync("alice", "uno"))).StatusCode);

        await Client.DeleteAsync(new DeleteModelRequest { Owner = "alice", ModelId = "m1", Force = true }, Rpc.Timeout);
        var gone = await Rpc.FailsAsync(() => Client.GetByIdAsync("alice", "m1"));
        Assert.Equal(StatusCode.NotFound, gone.StatusCode);
        Assert.Contains("'m1'", gone.Status.Detail);
    }

    [Fact]
    public async Task Watch_streams_the_owners_changes_from_acceptance()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var watch = Client.Watch(new WatchRequest { Owner = "alice" }, new CallOptions(cancellationToken: cts.Token));
        await watch.ResponseHeadersAsync;

        await Client.RegisterAsync(Rpc.NewModel("bob", "theirs"), Rpc.Timeout);
        await Client.RegisterAsync(Rpc.NewModel("alice", "m1"), Rpc.Timeout);
        await Client.DeleteAsync(new DeleteModelRequest { Owner = "alice", ModelId = "m1" }, Rpc.Timeout);

        Assert.True(await watch.ResponseStream.MoveNext(cts.Token));
        Assert.Equal((ChangeKind.Created, "m1"), (watch.ResponseStream.Current.Kind, watch.ResponseStream.Current.ModelId));
        Assert.True(await watch.ResponseStream.MoveNext(cts.Token));
        Assert.Equal((ChangeKind.Deleted, "m1"), (watch.ResponseStream.Current.Kind, watch.ResponseStream.Current.Model.ModelId));
    }

    [Fact]
    public async Task ImportModelList_refuses_a_stream_without_its_first_chunk_and_imports_nothing()
    {
        // What the server sees when a transport re-sends the call without its start: a later chunk first.
        var file = "huggingface.co/a/b/one.gguf a/b main one.yaml one READY\ncortex.so/two cortexso/two main two.yaml two RUNNING\n"u8.ToArray();
        var e = await RefusedAsync(new ImportModelListRequest { Chunk = ByteString.CopyFrom(file, 58, file.Length - 58), Offset = 58 });
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.StartsWith("offset: this message's chunk starts at 58, but 0 bytes came before it", e.Status.Detail);

        // A chunk that overlaps (or skips) the one before it is refused the same way.
        e = await RefusedAsync(
            new ImportModelListRequest { Owner = "alice", Chunk = ByteString.CopyFrom(file, 0, 58) },
            new ImportModelListRequest { Chunk = ByteString.CopyFrom(file, 50, file.Length - 50), Offset = 50 });
        Assert.StartsWith("offset: this message's chunk starts at 50, but 58 bytes came before it", e.Status.Detail);
        Assert.Empty((await Client.ListAsync(new ListModelsRequest { Owner = "alice" }, Rpc.Timeout)).Models);

        async Task<RpcException> RefusedAsync(params ImportModelListRequest[] messages)
        {
            using var call = Client.ImportModelList(Rpc.Timeout);
            await ServerEndedWrite.IgnoringRefusalAsync(async () =>
            {
                foreach (var message in messages)
                {
                    await call.RequestStream.WriteAsync(message);
                }

                await call.RequestStream.CompleteAsync();
            });

            return await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        }
    }

    [Fact]
    public async Task ImportModelList_reads_the_chunks_and_reports_each_bad_line()
    {
        var file = "huggingface.co/a/b/one.gguf a/b main one.yaml one READY\n\nbad line\ncortex.so/two cortexso/two main two.yaml two RUNNING\n"u8.ToArray();
        using var call = Client.ImportModelList(Rpc.Timeout);
        await call.RequestStream.WriteAsync(new ImportModelListRequest { Owner = "alice", Mode = ImportMode.BestEffort, Chunk = ByteString.CopyFrom(file, 0, 10) });
        for (var offset = 10; offset < file.Length; offset += 7)
        {
            await call.RequestStream.WriteAsync(new ImportModelListRequest { Chunk = ByteString.CopyFrom(file, offset, Math.Min(7, file.Length - offset)), Offset = offset });
        }

        await call.RequestStream.CompleteAsync();
        var report = await call;
        Assert.True(report.Committed);
        Assert.Equal(2, report.Imported);
        Assert.Equal(1, report.BlankLines);
        Assert.Equal(3, Assert.Single(report.Errors).LineNumber);
        Assert.Equal(ModelStatus.Running, (await Client.GetByAliasAsync("alice", "two")).Status);
    }

    [Fact]
    public async Task Backup_and_CheckIntegrity()
    {
        await Client.RegisterAsync(Rpc.NewModel("alice", "m1"), Rpc.Timeout);
        var backup = await Client.BackupAsync(new BackupRequest(), Rpc.Admin);
        Assert.True(backup.SizeBytes > 0);
        Assert.True(File.Exists(_directory.File(Path.Combine("backups", backup.FileName))));

        var integrity = await Client.CheckIntegrityAsync(new CheckIntegrityRequest(), Rpc.Admin);
        Assert.True(integrity.Ok);
        Assert.Equal(["ok"], integrity.Messages);
    }
}
