using System.Globalization;
using Grpc.Health.V1;
using Microservices.Grpc.Client;
using Microservices.Grpc.Health;
using Microservices.Grpc.Tests.Interop;
using Microservices.Grpc.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Microservices.Grpc.Tests.Server;

public sealed class HealthAndReflectionTests : InteropServerTest
{
    private static readonly Method<HealthCheckRequest, HealthCheckResponse> Check = Method<HealthCheckRequest, HealthCheckResponse>.Of(HealthReflection.Descriptor.Services[0], "Check");
    private static readonly Method<HealthCheckRequest, HealthCheckResponse> Watch = Method<HealthCheckRequest, HealthCheckResponse>.Of(HealthReflection.Descriptor.Services[0], "Watch");
    [Fact]
    public async Task Check_reports_theServer_and_each_service_and_not_found_for_unknown_ones()
    {
        Assert.Equal(ServingStatus.Serving, (await Channel.UnaryAsync(Check, new HealthCheckRequest())).Status);
        Assert.Equal(ServingStatus.Serving, (await Channel.UnaryAsync(Check, new HealthCheckRequest { Service = "microservices.testing.v1.TestService" })).Status);
        var error = await Assert.ThrowsAsync<RpcException>(() => Channel.UnaryAsync(Check, new HealthCheckRequest { Service = "nope.Service" }));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Contains("nope.Service", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Watch_streams_changes_and_the_host_flips_to_not_serving_when_stopping()
    {
        var registry = Server.Services.GetRequiredService<HealthStatusRegistry>();
        using var watch = Channel.ServerStreamingCall(Watch, new HealthCheckRequest { Service = "microservices.testing.v1.TestService" });
        Assert.True(await watch.ResponseStream.MoveNext());
        Assert.Equal(ServingStatus.Serving, watch.ResponseStream.Current.Status);

        registry.SetStatus("microservices.testing.v1.TestService", ServingStatus.NotServing);
        Assert.True(await watch.ResponseStream.MoveNext());
        Assert.Equal(ServingStatus.NotServing, watch.ResponseStream.Current.Status);

        registry.SetStatus("microservices.testing.v1.TestService", ServingStatus.Serving);
        Assert.True(await watch.ResponseStream.MoveNext());
        Assert.Equal(ServingStatus.Serving, watch.ResponseStream.Current.Status);

        using var unknown = Channel.ServerStreamingCall(Watch, new HealthCheckRequest { Service = "later.Service" });
        Assert.True(await unknown.ResponseStream.MoveNext());
        Assert.Equal(ServingStatus.ServiceUnknown, unknown.ResponseStream.Current.Status);

        var stopping = Server.DisposeAsync();
        Assert.True(await watch.ResponseStream.MoveNext().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(ServingStatus.NotServing, watch.ResponseStream.Current.Status);
        Assert.Equal(ServingStatus.NotServing, registry.GetStatus(""));
        // The watch ends, so it cannot hold the shutdown open.
        Assert.False(await watch.ResponseStream.MoveNext().WaitAsync(TimeSpan.FromSeconds(10)));
        watch.Dispose();
        unknown.Dispose();
        await stopping;
        Server = await StartServerAsync();
    }

    [Theory]
    [InlineData("v1")]
    [InlineData("v1alpha")]
    public async Task A_reflection_client_nobody_here_wrote_lists_describes_and_calls(string version)
    {
        var port = Server.Port.ToString(CultureInfo.InvariantCulture);
        var (listExit, list) = await Python.RunScriptAsync("reflection_client.py", "--server_port", port, "--version", version, "list");
        Assert.True(listExit == 0, list);
        var services = list.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains("microservices.testing.v1.TestService", services);
        Assert.Contains("grpc.health.v1.Health", services);
        Assert.Contains("grpc.reflection.v1.ServerReflection", services);
        Assert.Contains("grpc.reflection.v1alpha.ServerReflection", services);

        var (describeExit, description) = await Python.RunScriptAsync("reflection_client.py", "--server_port", port, "--version", version,
            "describe", "microservices.testing.v1.TestService");
        Assert.True(describeExit == 0, description);
        Assert.Contains("FullDuplexCall", description, StringComparison.Ordinal);

        // Built from reflected descriptors alone: no generated code of the contract on the Python side.
        var (callExit, output) = await Python.RunScriptAsync("reflection_client.py", "--server_port", port, "--version", version,
            "call", "microservices.testing.v1.TestService/UnaryCall", "{\"responseSize\": 3}");
        Assert.True(callExit == 0, output);
        Assert.Contains("\"AAAA\"", output, StringComparison.Ordinal);

        var (missingExit, missing) = await Python.RunScriptAsync("reflection_client.py", "--server_port", port, "--version", version,
            "describe", "no.such.Symbol");
        Assert.NotEqual(0, missingExit);
        Assert.Contains("not found", missing, StringComparison.OrdinalIgnoreCase);
    }
}
