using System.Globalization;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microservices.Hosting.Tests.Support;
using Microservices.TestSupport;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Microservices.Hosting.Tests;

/// <summary>
/// grpc.health.v1 as probes see it (Debian's grpcio, stubs compiled at run time from
/// /usr/share/grpc-proto): SERVING for the server and every mapped service from the first call,
/// NOT_SERVING from the moment shutdown begins, while the listener is still open.
/// </summary>
public sealed class HealthTests
{
    /// <summary>Every service the test host maps: its own, plus health and reflection from the defaults.</summary>
    private static readonly string[] MappedServices =
    [
        "", ServiceHost.TestServiceName, "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection",
    ];

    [Fact]
    public async Task The_server_and_each_mapped_service_are_serving_as_soon_as_the_host_has_started()
    {
        await using var host = await ServiceHost.StartAsync("health-ready-test");

        // The first calls after StartAsync: grpc-dotnet's publisher has not run yet (its first run
        // is seconds later), so these prove Check evaluates the checks rather than a cache.
        using var channel = GrpcChannel.ForAddress(host.Address);
        var client = new HealthClient(channel);
        foreach (var service in MappedServices)
        {
            Assert.Equal(ServingStatus.Serving, (await client.CheckAsync(new HealthCheckRequest { Service = service })).Status);
        }

        var (exitCode, output) = await Python.RunScriptAsync("health_client.py", PortArguments(host, ["check", .. MappedServices]));
        Assert.True(exitCode == 0, output);
        foreach (var service in MappedServices)
        {
            Assert.Contains($"check {service}: SERVING\n", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_unknown_service_is_not_found()
    {
        await using var host = await ServiceHost.StartAsync("health-unknown-test");

        var (exitCode, output) = await Python.RunScriptAsync("health_client.py", PortArguments(host, ["check", "no.such.Service"]));
        Assert.True(exitCode == 0, output);
        Assert.Contains("check no.such.Service: NOT_FOUND\n", output, StringComparison.Ordinal);

        using var channel = GrpcChannel.ForAddress(host.Address);
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await new HealthClient(channel).CheckAsync(new HealthCheckRequest { Service = "no.such.Service" }));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task A_Watch_of_an_unknown_service_says_service_unknown_and_stays_open()
    {
        // Unlike Check (NOT_FOUND), Watch reports SERVICE_UNKNOWN: the service may be registered later.
        await using var host = await ServiceHost.StartAsync("health-watch-unknown-test");
        await using var watch = Python.StartScript("health_client.py", PortArguments(host, ["watch", "later.Service"]));
        await watch.WaitForOutputAsync("watch: ", TimeSpan.FromSeconds(30));
        Assert.StartsWith("watch: SERVICE_UNKNOWN\n", watch.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("watch ended", watch.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData(ServiceHost.TestServiceName)]
    public async Task A_grpcio_Watch_starts_with_serving_and_sees_not_serving_when_shutdown_begins(string service)
    {
        await using var host = await ServiceHost.StartAsync("health-watch-test");
        await using var watch = Python.StartScript("health_client.py", PortArguments(host, ["watch", service]));
        await watch.WaitForOutputAsync("watch: ", TimeSpan.FromSeconds(30));
        Assert.StartsWith("watch: SERVING\n", watch.Output, StringComparison.Ordinal);

        var stopping = host.StopAsync();
        await watch.WaitForOutputAsync("watch ended: ", TimeSpan.FromSeconds(30));
        Assert.Equal("watch: SERVING\nwatch: NOT_SERVING\nwatch ended: OK\n", watch.Output);

        // The Watch ends with its NOT_SERVING, so it does not hold the shutdown open.
        await stopping.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task During_the_shutdown_delay_the_host_still_answers_and_says_not_serving()
    {
        await using var host = await ServiceHost.StartAsync("health-delay-test", new Dictionary<string, string?>
        {
            // Long enough for a Python process to start and ask; the test never waits it out idle.
            ["Hosting:ShutdownDelay"] = "00:00:20",
        });
        using var channel = GrpcChannel.ForAddress(host.Address);
        var client = new HealthClient(channel);
        Assert.Equal(ServingStatus.Serving, (await client.CheckAsync(new HealthCheckRequest())).Status);
        await using var watch = Python.StartScript("health_client.py", PortArguments(host, ["watch", ServiceHost.TestServiceName]));
        await watch.WaitForOutputAsync("watch: SERVING\n", TimeSpan.FromSeconds(30));

        var stopping = host.StopAsync();
        await watch.WaitForOutputAsync("watch ended: ", TimeSpan.FromSeconds(15));
        Assert.Equal("watch: SERVING\nwatch: NOT_SERVING\nwatch ended: OK\n", watch.Output);
        Assert.False(stopping.IsCompleted);
        foreach (var service in MappedServices)
        {
            Assert.Equal(ServingStatus.NotServing, (await client.CheckAsync(new HealthCheckRequest { Service = service })).Status);
        }

        // A new connection, too: the listener is still open.
        var (exitCode, output) = await Python.RunScriptAsync("health_client.py", PortArguments(host, ["check", "", ServiceHost.TestServiceName]));
        Assert.True(exitCode == 0, output);
        Assert.Contains("check : NOT_SERVING\n", output, StringComparison.Ordinal);
        Assert.Contains($"check {ServiceHost.TestServiceName}: NOT_SERVING\n", output, StringComparison.Ordinal);
        Assert.False(stopping.IsCompleted, "The shutdown delay ended before the checks ran; they proved nothing.");

        await stopping.WaitAsync(TimeSpan.FromSeconds(60));
    }

    private static string[] PortArguments(ServiceHost host, string[] command) =>
        ["--server_host", "127.0.0.1", "--server_port", host.Port.ToString(CultureInfo.InvariantCulture), .. command];
}
