using Microservices.TestSupport;

namespace Microservices.Registry.Tests.Grpc;

/// <summary>
/// A peer nobody here wrote: Debian's grpcio, through the repository's reflection client, which
/// knows the registry only from the server's reflection answers (no generated code).
/// </summary>
public sealed class GrpcioPeerTests
{
    [Fact]
    public async Task Grpcio_lists_describes_and_calls_the_registry()
    {
        using var directory = new TempDirectory();
        await using var host = await RegistryHost.StartAsync(directory.File("registry.db"));
        await host.Client.RegisterAsync(Rpc.NewModel("alice", "huggingface.co/a/b/m1.gguf", alias: "one"), Rpc.Timeout);

        var (code, listing) = await ReflectionClientAsync(host.Port, "list");
        Assert.True(code == 0, listing);
        Assert.Contains("microservices.registry.v1.ModelRegistry", listing);
        Assert.Contains("grpc.health.v1.Health", listing);

        (code, var described) = await ReflectionClientAsync(host.Port, "describe", "microservices.registry.v1.ModelRegistry");
        Assert.True(code == 0, described);
        Assert.Contains("ImportModelList", described);
        Assert.Contains("Get", described);

        // grpcio sends the bearer token as metadata, exactly as grpcurl -H does.
        var bearer = "authorization: Bearer " + TestTokens.For("alice");
        (code, var unauthenticated) = await ReflectionClientAsync(host.Port, "call", "microservices.registry.v1.ModelRegistry/Get", """{"alias":"one"}""");
        Assert.NotEqual(0, code);
        Assert.Contains("UNAUTHENTICATED: no bearer token", unauthenticated);

        (code, var called) = await ReflectionClientAsync(host.Port, "call", "-H", bearer, "microservices.registry.v1.ModelRegistry/Get", """{"owner":"alice","alias":"one"}""");
        Assert.True(code == 0, called);
        Assert.Contains("\"modelId\": \"huggingface.co/a/b/m1.gguf\"", called);
        Assert.Contains("MODEL_STATUS_READY", called);

        // A refusal reaches the peer as the status and the server's message.
        (code, var missing) = await ReflectionClientAsync(host.Port, "call", "-H", bearer, "microservices.registry.v1.ModelRegistry/Get", """{"owner":"alice","alias":"nope"}""");
        Assert.NotEqual(0, code);
        Assert.Contains("NOT_FOUND", missing);
        Assert.Contains("No model with alias 'nope' for owner 'alice'.", missing);

        (code, var denied) = await ReflectionClientAsync(host.Port, "call", "-H", "authorization: Bearer " + TestTokens.For("mallory"), "microservices.registry.v1.ModelRegistry/Get", """{"owner":"alice","alias":"one"}""");
        Assert.NotEqual(0, code);
        Assert.Contains("PERMISSION_DENIED", denied);
    }

    private static Task<(int ExitCode, string Output)> ReflectionClientAsync(int port, params string[] args) =>
        Python.RunScriptAsync("reflection_client.py", ["--server_port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. args]);
}
