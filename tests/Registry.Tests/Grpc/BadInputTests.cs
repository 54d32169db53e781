using System.Net;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microservices.Clients;
using Microservices.Registry.Repositories;
using Microservices.Registry.V1;
using Microservices.TestSupport;

namespace Microservices.Registry.Tests.Grpc;

/// <summary>
/// Each class of bad input, over gRPC: the status code, and a message that names the field or
/// rule (DESIGN.md: INVALID_ARGUMENT names the field and the rule, NOT_FOUND what was looked up,
/// FAILED_PRECONDITION the state).
/// </summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private RegistryHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = await RegistryHost.StartAsync(_directory.File("registry.db"));
        await _host.Client.RegisterAsync(Rpc.NewModel("alice", "m1", alias: "one"), Rpc.Timeout);
        await _host.Client.RegisterAsync(Rpc.NewModel("alice", "m2", alias: "two"), Rpc.Timeout);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _directory.Dispose();
    }

    public static TheoryData<string, RegisterModelRequest, string> BadRegistrations() => new()
    {
        { "empty id", Rpc.NewModel("alice", ""), "model_id" },
        { "oversized id", Rpc.NewModel("alice", new string('x', 513)), "model_id" },
        { "control character in id", Rpc.NewModel("alice", "m\u00079"), "model_id" },
        { "control character in alias", Rpc.NewModel("alice", "m9", alias: "a\u001bb"), "alias" },
        { "whitespace in branch", With(Rpc.NewModel("alice", "m9"), r => r.Branch = "my branch"), "branch" },
        { "missing source type", With(Rpc.NewModel("alice", "m9"), r => r.SourceType = SourceType.Unspecified), "source_type" },
        { "unknown source type", With(Rpc.NewModel("alice", "m9"), r => r.SourceType = (SourceType)42), "source_type" },
        { "unknown status", With(Rpc.NewModel("alice", "m9"), r => r.Status = (ModelStatus)7), "status" },
        { "bad tag key", With(Rpc.NewModel("alice", "m9"), r => r.Tags["no spaces"] = "v"), "tags" },
    };

    [Theory]
    [MemberData(nameof(BadRegistrations))]
    public async Task Register_refuses_bad_fields_naming_them(string why, RegisterModelRequest request, string field)
    {
        var e = await Rpc.FailsAsync(() => _host.Client.RegisterAsync(request, Rpc.Timeout));
        Assert.True(StatusCode.InvalidArgument == e.StatusCode, $"{why}: {e.Status}");
        Assert.StartsWith(field, e.Status.Detail);
    }

    [Fact]
    public async Task An_unknown_enum_value_names_the_accepted_values()
    {
        var e = await Rpc.FailsAsync(() => _host.Client.RegisterAsync(With(Rpc.NewModel("alice", "m9"), r => r.SourceType = (SourceType)42), Rpc.Timeout));
        Assert.Equal("source_type: unknown value 42; expected one of SOURCE_TYPE_HUGGINGFACE, SOURCE_TYPE_CORTEX_SO, SOURCE_TYPE_LOCAL", e.Status.Detail);

        var list = await Rpc.FailsAsync(() => _host.Client.ListAsync(new ListModelsRequest { Owner = "alice", OrderBy = (ModelOrder)9 }, Rpc.Timeout));
        Assert.Equal(StatusCode.InvalidArgument, list.StatusCode);
        Assert.StartsWith("order_by: unknown value 9", list.Status.Detail);

        var status = await Rpc.FailsAsync(() => _host.Client.SetStatusAsync(new SetStatusRequest { Owner = "alice", ModelId = "m1" }, Rpc.Timeout));
        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        Assert.StartsWith("status: is required", status.Status.Detail);
    }

    [Fact]
    public async Task A_duplicate_alias_is_already_exists_naming_the_alias()
    {
        var e = await Rpc.FailsAsync(() => _host.Client.RegisterAsync(Rpc.NewModel("alice", "m3", alias: "one"), Rpc.Timeout));
        Assert.Equal(StatusCode.AlreadyExists, e.StatusCode);
        Assert.Contains("'one'", e.Status.Detail);

        var moved = await Rpc.FailsAsync(() => _host.Client.SetAliasAsync(new SetAliasRequest { Owner = "alice", ModelId = "m2", Alias = "one" }, Rpc.Timeout));
        Assert.Equal(StatusCode.AlreadyExists, moved.StatusCode);
        Assert.Contains("'one'", moved.Status.Detail);

        var sameId = await Rpc.FailsAsync(() => _host.Client.RegisterAsync(Rpc.NewModel("alice", "m1"), Rpc.Timeout));
        Assert.Equal(StatusCode.AlreadyExists, sameId.StatusCode);
        Assert.Contains("'m1'", sameId.Status.Detail);
    }

    [Fact]
    public async Task An_illegal_status_transition_names_the_current_state()
    {
        var e = await Rpc.FailsAsync(() => _host.Client.SetStatusAsync(new SetStatusRequest { Owner = "alice", ModelId = "m1", Status = ModelStatus.Ready }, Rpc.Timeout));
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Contains("already READY", e.Status.Detail);
    }

    [Fact]
    public async Task A_stale_or_missing_version_is_refused()
    {
        var stale = await Rpc.FailsAsync(() => _host.Client.SetAliasAsync(new SetAliasRequest { Owner = "alice", ModelId = "m1", Alias = "uno", ExpectedVersion = 5 }, Rpc.Timeout));
        Assert.Equal(StatusCode.Aborted, stale.StatusCode);
        Assert.Contains("not the expected 5", stale.Status.Detail);

        var missing = await Rpc.FailsAsync(() => _host.Client.UpdateAsync(new UpdateModelRequest { Owner = "alice", ModelId = "m1", Model = new Model { Branch = "b" }, UpdateMask = new FieldMask { Paths = { "branch" } } }, Rpc.Timeout));
        Assert.Equal(StatusCode.InvalidArgument, missing.StatusCode);
        Assert.StartsWith("expected_version", missing.Status.Detail);

        var path = await Rpc.FailsAsync(() => _host.Client.UpdateAsync(new UpdateModelRequest { Owner = "alice", ModelId = "m1", Model = new Model(), UpdateMask = new FieldMask { Paths = { "status" } }, ExpectedVersion = 1 }, Rpc.Timeout));
        Assert.Equal(StatusCode.InvalidArgument, path.StatusCode);
        Assert.StartsWith("update_mask: path 'status'", path.Status.Detail);
    }

    [Fact]
    public async Task An_unknown_id_or_alias_is_not_found_naming_it()
    {
        var id = await Rpc.FailsAsync(() => _host.Client.GetByIdAsync("alice", "nope"));
        Assert.Equal(StatusCode.NotFound, id.StatusCode);
        Assert.Equal("No model with id 'nope' for owner 'alice'.", id.Status.Detail);

        var alias = await Rpc.FailsAsync(() => _host.Client.GetByAliasAsync("alice", "nope"));
        Assert.Equal("No model with alias 'nope' for owner 'alice'.", alias.Status.Detail);

        var write = await Rpc.FailsAsync(() => _host.Client.DeleteAsync(new DeleteModelRequest { Owner = "alice", ModelId = "nope" }, Rpc.Timeout));
        Assert.Equal(StatusCode.NotFound, write.StatusCode);
        Assert.Contains("'nope'", write.Status.Detail);

        var neither = await Rpc.FailsAsync(() => _host.Client.GetAsync(new GetModelRequest { Owner = "alice" }, Rpc.Timeout));
        Assert.Equal(StatusCode.InvalidArgument, neither.StatusCode);
        Assert.StartsWith("key", neither.Status.Detail);
    }

    [Fact]
    public async Task An_oversized_message_is_resource_exhausted_and_the_host_keeps_serving()
    {
        // Grpc:MaxReceiveMessageSize is 4 MiB by default.
        var huge = With(Rpc.NewModel("alice", "m9"), r => r.ConfigPath = new string('x', 5 * 1024 * 1024));
        var e = await Rpc.FailsAsync(() => _host.Client.RegisterAsync(huge, Rpc.Timeout));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains("maximum", e.Status.Detail, StringComparison.OrdinalIgnoreCase);
        await AnotherClientIsServedAsync();
    }

    [Fact]
    public async Task Garbage_protobuf_bytes_are_refused_and_the_host_keeps_serving()
    {
        // Field 1 (owner) claims 127 bytes and carries 2; then a tag with wire type 7, which doesn't exist.
        var status = await RawCallAsync("/microservices.registry.v1.ModelRegistry/Get", [0x0A, 0x7F, 0x61, 0x62, 0x0F]);
        // Grpc.AspNetCore fails the handler's read of the request: UNKNOWN, with no details on the wire.
        Assert.Equal(new Status(StatusCode.Unknown, "Exception was thrown by handler."), status);
        await AnotherClientIsServedAsync();
    }

    [Theory]
    [InlineData("/microservices.registry.v1.ModelRegistry/Rename")]
    [InlineData("/microservices.registry.v1.NoSuchService/Get")]
    public async Task An_unknown_method_is_unimplemented_and_the_host_keeps_serving(string path)
    {
        var status = await RawCallAsync(path, []);
        Assert.Equal(StatusCode.Unimplemented, status.StatusCode);
        await AnotherClientIsServedAsync();
    }

    [Fact]
    public async Task Oversized_metadata_is_resource_exhausted_and_the_host_keeps_serving()
    {
        // Grpc:MaxRequestMetadataSize is 16 KiB; Kestrel's header limits are above it, so the call gets a status.
        var headers = new Metadata { { "x-padding", new string('p', 40 * 1024) } };
        var e = await Rpc.FailsAsync(() => _host.Client.GetAsync(new GetModelRequest { Owner = "alice", ModelId = "m1" }, headers, DateTime.UtcNow.AddSeconds(30)));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains("Grpc:MaxRequestMetadataSize", e.Status.Detail);
        await AnotherClientIsServedAsync();
    }

    [Fact]
    public async Task A_corrupt_database_stops_the_host_and_is_left_untouched()
    {
        var path = _directory.File("corrupt.db");
        var garbage = "SQLite format 3\0 but then a text editor saved over the rest of it"u8.ToArray();
        await File.WriteAllBytesAsync(path, garbage);

        var e = await Assert.ThrowsAsync<RegistryStartupException>(() => RegistryHost.StartAsync(path));
        Assert.Contains(path, e.Message);
        Assert.Equal(garbage, await File.ReadAllBytesAsync(path));
        Assert.False(File.Exists(path + "-wal"));
    }

    // A new connection, as another caller would open: the bad call harmed neither the host nor its listener.
    /// <summary>One length-prefixed message as bytes on the wire; the call's status, which every gRPC answer carries with HTTP 200.</summary>
    private async Task<Status> RawCallAsync(string path, byte[] message)
    {
        var response = await RawGrpc.CallAsync(_host.Address, path, RawGrpc.Frame(message), headers: ("authorization", "Bearer " + TestTokens.For("alice")));
        Assert.Equal(HttpStatusCode.OK, response.HttpStatus);
        Assert.True(response.GrpcStatus.HasValue, $"no grpc-status in the response to {path}");
        return new Status((StatusCode)response.GrpcStatus.Value, response.GrpcMessage);
    }

    private async Task AnotherClientIsServedAsync()
    {
        using var channel = GrpcChannels.Create(_host.Address);
        var model = await RegistryHost.ClientOver(channel).GetByIdAsync("alice", "m1");
        Assert.Equal("one", model.Alias);
    }

    private static RegisterModelRequest With(RegisterModelRequest request, Action<RegisterModelRequest> change)
    {
        change(request);
        return request;
    }
}
