using System.Globalization;
using Microservices.Hosting.Tests.Support;
using Microservices.TestSupport;

namespace Microservices.Hosting.Tests;

/// <summary>Server reflection (Grpc.AspNetCore.Server.Reflection) as a generic tool uses it: a grpcio client that knows only what reflection says.</summary>
public sealed class ReflectionTests
{
    [Theory]
    [InlineData("v1")]
    [InlineData("v1alpha")]
    public async Task A_reflection_client_nobody_here_wrote_lists_describes_and_calls(string version)
    {
        await using var host = await ServiceHost.StartAsync("reflection-test");

        var (listExit, list) = await ReflectAsync(host, version, "list");
        Assert.True(listExit == 0, list);
        var services = list.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains(ServiceHost.TestServiceName, services);
        Assert.Contains("grpc.health.v1.Health", services);
        Assert.Contains("grpc.reflection.v1.ServerReflection", services);
        Assert.Contains("grpc.reflection.v1alpha.ServerReflection", services);

        var (describeExit, description) = await ReflectAsync(host, version, "describe", ServiceHost.TestServiceName);
        Assert.True(describeExit == 0, description);
        Assert.Contains("FullDuplexCall", description, StringComparison.Ordinal);

        // Built from reflected descriptors alone: no generated code of the contract on the Python side.
        var (callExit, output) = await ReflectAsync(host, version, "call", ServiceHost.TestServiceName + "/UnaryCall", "{\"responseSize\": 3}");
        Assert.True(callExit == 0, output);
        Assert.Contains("\"AAAA\"", output, StringComparison.Ordinal);

        var (missingExit, missing) = await ReflectAsync(host, version, "describe", "no.such.Symbol");
        Assert.NotEqual(0, missingExit);
        Assert.Contains("not found", missing, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("v1")]
    [InlineData("v1alpha")]
    public async Task Grpc_EnableReflection_false_turns_reflection_off(string version)
    {
        await using var host = await ServiceHost.StartAsync("no-reflection-test", new Dictionary<string, string?>
        {
            ["Grpc:EnableReflection"] = "false",
        });

        var (exitCode, output) = await ReflectAsync(host, version, "list");
        Assert.Equal(1, exitCode);
        Assert.Contains("UNIMPLEMENTED", output, StringComparison.Ordinal);
    }

    private static Task<(int ExitCode, string Output)> ReflectAsync(ServiceHost host, string version, params string[] command) =>
        Python.RunScriptAsync("reflection_client.py",
            ["--server_host", "127.0.0.1", "--server_port", host.Port.ToString(CultureInfo.InvariantCulture), "--version", version, .. command]);
}
