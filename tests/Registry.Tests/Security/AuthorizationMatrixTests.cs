using Grpc.Core;
using Microservices.Registry.Tests.Grpc;
using Microservices.Registry.V1;
using Microservices.TestSupport;

namespace Microservices.Registry.Tests.Security;

/// <summary>
/// Every ModelRegistry RPC × every kind of caller, each call naming alice's data. The list of
/// methods comes from the service descriptor, so a new RPC without a case here fails the test.
/// </summary>
public sealed class AuthorizationMatrixTests : IAsyncLifetime
{
    private static readonly string[] OperatorMethods = ["Backup", "CheckIntegrity"];

    private static readonly Dictionary<string, Func<ModelRegistryClient, CallOptions, Task>> Calls = new()
    {
        ["Register"] = async (c, o) => await c.RegisterAsync(Rpc.NewModel("alice", "matrix-new"), o),
        ["Get"] = async (c, o) => await c.GetAsync(new GetModelRequest { Owner = "alice", ModelId = "m1" }, o),
        ["List"] = async (c, o) => await c.ListAsync(new ListModelsRequest { Owner = "alice" }, o),
        ["Update"] = async (c, o) => await c.UpdateAsync(new UpdateModelRequest
        {
            Owner = "alice", ModelId = "m1", Model = new Model { Branch = "dev" }, UpdateMask = new Google.Protobuf.WellKnownTypes.FieldMask { Paths = { "branch" } }, ExpectedVersion = 1,
        }, o),
        ["Delete"] = async (c, o) => await c.DeleteAsync(new DeleteModelRequest { Owner = "alice", ModelId = "m2" }, o),
        ["SetStatus"] = async (c, o) => await c.SetStatusAsync(new SetStatusRequest { Owner = "alice", ModelId = "m3", Status = ModelStatus.Running }, o),
        ["SetAlias"] = async (c, o) => await c.SetAliasAsync(new SetAliasRequest { Owner = "alice", ModelId = "m3", Alias = "three" }, o),
        ["RemoveAlias"] = async (c, o) => await c.RemoveAliasAsync(new RemoveAliasRequest { Owner = "alice", ModelId = "m1" }, o),
        ["Watch"] = async (c, o) =>
        {
            using var call = c.Watch(new WatchRequest { Owner = "alice" }, o);
            await call.ResponseHeadersAsync;

            // A refusal is a trailers-only response: its status is there with the headers. An
            // accepted watch sends headers and then streams, so its status is not there yet.
            var status = TryGetStatus(call);
            if (status is { StatusCode: not StatusCode.OK })
            {
                throw new RpcException(status.Value);
            }
        },
        ["ImportModelList"] = async (c, o) =>
        {
            using var call = c.ImportModelList(o);
            await ServerEndedWrite.IgnoringRefusalAsync(async () =>
            {
                await call.RequestStream.WriteAsync(new ImportModelListRequest { Owner = "alice" });
                await call.RequestStream.CompleteAsync();
            });
            await call;
        },
        ["ImportModels"] = async (c, o) =>
        {
            using var call = c.ImportModels(o);
            await ServerEndedWrite.IgnoringRefusalAsync(async () =>
            {
                await call.RequestStream.WriteAsync(new ImportModelsRequest { Owner = "alice", DryRun = true });
                await call.RequestStream.CompleteAsync();
            });
            await call;
        },
        ["Backup"] = async (c, o) => await c.BackupAsync(new BackupRequest(), o),
        ["CheckIntegrity"] = async (c, o) => await c.CheckIntegrityAsync(new CheckIntegrityRequest(), o),
    };

    private readonly TempDirectory _directory = new();
    private RegistryHost _host = null!;

    public static TheoryData<string, TokenKind> Cases()
    {
        var data = new TheoryData<string, TokenKind>();
        foreach (var method in V1.ModelRegistry.Descriptor.Methods)
        {
            foreach (var kind in Enum.GetValues<TokenKind>())
            {
                data.Add(method.Name, kind);
            }
        }

        return data;
    }

    public async Task InitializeAsync()
    {
        _host = await RegistryHost.StartAsync(_directory.File("registry.db"), TestTokens.SettingsWithDelegation(_directory.Path));
        foreach (var id in new[] { "m1", "m2", "m3" })
        {
            await _host.Client.RegisterAsync(Rpc.NewModel("alice", id, alias: id == "m1" ? "one" : ""), Rpc.Timeout);
        }
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public void Every_rpc_has_a_case()
    {
        Assert.Equal(V1.ModelRegistry.Descriptor.Methods.Select(m => m.Name).Order(), Calls.Keys.Order());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Each_rpc_admits_exactly_the_callers_it_should(string method, TokenKind kind)
    {
        var client = new ModelRegistryClient(_host.Channel); // no interceptor: the token is the case's
        var options = new CallOptions(TestTokens.Bearer(TestTokens.Of(kind, "alice")), DateTime.UtcNow.AddSeconds(30));
        var status = await CallStatus.OfAsync(() => Calls[method](client, options));
        var operatorMethod = OperatorMethods.Contains(method);
        var expected = kind switch
        {
            TokenKind.None or TokenKind.Expired or TokenKind.WrongAudience or TokenKind.WrongIssuer or TokenKind.BadSignature => StatusCode.Unauthenticated,
            TokenKind.OtherOwner => StatusCode.PermissionDenied,   // names alice's data, or an operator method
            TokenKind.Admin => operatorMethod ? StatusCode.OK : StatusCode.PermissionDenied, // the admin role grants no one else's data
            _ => operatorMethod ? StatusCode.PermissionDenied : StatusCode.OK,
        };
        Assert.True(expected == status.StatusCode, $"{method} as {kind}: expected {expected}, got {status}");

        // Nothing of alice's changed through a refused call.
        if (expected != StatusCode.OK)
        {
            var models = await _host.Client.ListAsync(new ListModelsRequest { Owner = "alice" }, Rpc.Timeout);
            Assert.Equal(["m1", "m2", "m3"], models.Models.Select(m => m.ModelId).Order());
            Assert.Equal("one", models.Models.Single(m => m.ModelId == "m1").Alias);
        }
    }

    [Fact]
    public async Task Another_owner_naming_no_owner_sees_only_their_own_empty_registry()
    {
        var client = new ModelRegistryClient(_host.Channel);
        var mallory = new CallOptions(TestTokens.As("mallory"), DateTime.UtcNow.AddSeconds(30));
        Assert.Empty((await client.ListAsync(new ListModelsRequest(), mallory)).Models);
        var missing = await CallStatus.OfAsync(async () => await client.GetAsync(new GetModelRequest { ModelId = "m1" }, mallory));
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        Assert.Equal(3, (await client.ListAsync(new ListModelsRequest(), new CallOptions(TestTokens.As("alice"), DateTime.UtcNow.AddSeconds(30)))).Models.Count);
    }

    [Fact]
    public async Task A_delegated_token_does_only_what_its_scope_names()
    {
        var client = new ModelRegistryClient(_host.Channel);
        CallOptions As(string scope) => new(TestTokens.Bearer(TestTokens.Delegated("alice", "job-1", scope)), DateTime.UtcNow.AddSeconds(30));

        Assert.Equal(StatusCode.OK, (await CallStatus.OfAsync(() => Calls["List"](client, As("registry.read")))).StatusCode);
        Assert.Equal(StatusCode.OK, (await CallStatus.OfAsync(() => Calls["Watch"](client, As("registry.read")))).StatusCode);
        var register = await CallStatus.OfAsync(() => Calls["Register"](client, As("registry.read blob.read")));
        Assert.Equal(StatusCode.PermissionDenied, register.StatusCode);
        Assert.Equal("a token delegated to export does not carry scope registry.write", register.Detail);
        Assert.Equal(StatusCode.OK, (await CallStatus.OfAsync(() => Calls["ImportModels"](client, As("registry.read registry.write")))).StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, (await CallStatus.OfAsync(() => Calls["List"](client, As("blob.read")))).StatusCode);
        // Delegation never carries the admin role, and acts only for the owner it names.
        Assert.Equal(StatusCode.PermissionDenied, (await CallStatus.OfAsync(() => Calls["Backup"](client, As("registry.read registry.write")))).StatusCode);
        var other = new CallOptions(TestTokens.Bearer(TestTokens.Delegated("mallory", "job-1", "registry.read")), DateTime.UtcNow.AddSeconds(30));
        Assert.Equal(StatusCode.PermissionDenied, (await CallStatus.OfAsync(() => Calls["List"](client, other))).StatusCode);
    }

    private static Status? TryGetStatus(AsyncServerStreamingCall<ModelChange> call)
    {
        try
        {
            return call.GetStatus();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}
