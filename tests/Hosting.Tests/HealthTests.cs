using Grpc.Health.V1;
using Microservices.Grpc.Client;
using Microservices.Hosting.Tests.Support;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Microservices.Hosting.Tests;

public sealed class HealthTests
{
    [Fact]
    public async Task Host_with_service_defaults_answers_health_check_with_serving()
    {
        await using var host = await ServiceHost.StartAsync("health-check-test");
        using var channel = GrpcChannel.ForAddress(host.Address);

        var response = await channel.UnaryAsync(Health.Check, new HealthCheckRequest(),
            new CallOptions().WithTimeout(TimeSpan.FromSeconds(10)));

        Assert.Equal(ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task Health_flips_to_not_serving_when_the_host_stops()
    {
        await using var host = await ServiceHost.StartAsync("health-stop-test");
        using var channel = GrpcChannel.ForAddress(host.Address);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var watch = channel.ServerStreamingCall(Health.Watch, new HealthCheckRequest(),
            new CallOptions { CancellationToken = cancel.Token });

        Assert.True(await watch.ResponseStream.MoveNext(cancel.Token));
        Assert.Equal(ServingStatus.Serving, watch.ResponseStream.Current.Status);

        // Stopping waits for open calls, this Watch included, so it runs while the test reads on.
        var stopping = host.StopAsync();
        Assert.True(await watch.ResponseStream.MoveNext(cancel.Token));
        Assert.Equal(ServingStatus.NotServing, watch.ResponseStream.Current.Status);

        await cancel.CancelAsync();
        await stopping.WaitAsync(TimeSpan.FromSeconds(20));
    }
}
