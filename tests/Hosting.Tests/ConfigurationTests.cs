using System.Net.Sockets;
using Grpc.Health.V1;
using Microservices.Grpc;
using Microservices.Grpc.Client;
using Microservices.Grpc.Server;
using Microservices.Hosting.Tests.Support;
using Microservices.TestSupport;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Microservices.Hosting.Tests;

public sealed class ConfigurationTests
{
    [Fact]
    public async Task A_configured_Kestrel_endpoint_replaces_the_default_and_still_speaks_h2c()
    {
        var configuredPort = FreePort.Next();
        var defaultPort = FreePort.Next();
        await using var app = ServiceHost.Build("endpoint-test", defaultPort, new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Grpc:Url"] = $"http://127.0.0.1:{configuredPort}",
        });
        await app.StartAsync();

        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{configuredPort}");
        var response = await channel.UnaryAsync(Health.Check, new HealthCheckRequest());
        Assert.Equal(ServingStatus.Serving, response.Status);

        using var probe = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(() => probe.ConnectAsync("127.0.0.1", defaultPort));
        await app.StopAsync();
    }

    [Fact]
    public async Task Options_come_from_configuration_over_the_gRPC_defaults()
    {
        await using var app = ServiceHost.Build("options-test", FreePort.Next(), new Dictionary<string, string?>
        {
            ["Grpc:MaxReceiveMessageSize"] = "1234567",
            ["Hosting:ShutdownTimeout"] = "00:00:07",
            ["Kestrel:Limits:Http2:InitialStreamWindowSize"] = "2097152",
        });

        Assert.Equal(1234567, app.Services.GetRequiredService<IOptions<GrpcServerOptions>>().Value.MaxReceiveMessageSize);
        Assert.Equal(TimeSpan.FromSeconds(7), app.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);

        var limits = app.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;
        Assert.Equal(2097152, limits.Http2.InitialStreamWindowSize);
        Assert.Equal(4 * 1024 * 1024, limits.Http2.InitialConnectionWindowSize);
        Assert.Equal(64 * 1024, limits.MaxRequestHeadersTotalSize);
        Assert.Equal(100, limits.Http2.MaxStreamsPerConnection);
        Assert.Null(limits.MaxRequestBodySize);
        Assert.Null(limits.MinRequestBodyDataRate);
    }

    [Fact]
    public async Task Oversized_metadata_gets_the_gRPC_layers_status_not_an_HTTP2_reset()
    {
        await using var host = await ServiceHost.StartAsync("metadata-test");
        using var channel = GrpcChannel.ForAddress(host.Address);
        var headers = new Metadata().Add("x-large", new string('a', 40 * 1024));

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            channel.UnaryAsync(Health.Check, new HealthCheckRequest(), new CallOptions { Headers = headers }));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }
}
