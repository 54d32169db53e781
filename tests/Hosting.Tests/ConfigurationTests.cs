using System.Net.Sockets;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microservices.Hosting.Server;
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
        var response = await new HealthClient(channel).CheckAsync(new HealthCheckRequest());
        Assert.Equal(ServingStatus.Serving, response.Status);

        using var probe = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(() => probe.ConnectAsync("127.0.0.1", defaultPort));
        await app.StopAsync();
    }

    [Fact]
    public async Task Grpc_Hosting_and_Kestrel_Limits_keys_bind_over_the_defaults()
    {
        await using var app = ServiceHost.Build("options-test", FreePort.Next(), new Dictionary<string, string?>
        {
            ["Grpc:MaxReceiveMessageSize"] = "1234567",
            ["Grpc:MaxSendMessageSize"] = "7654321",
            ["Grpc:MaxRequestMetadataSize"] = "2048",
            ["Grpc:ResponseCompressionLevel"] = "SmallestSize",
            ["Hosting:ShutdownTimeout"] = "00:00:07",
            ["Hosting:ShutdownDelay"] = "00:00:03",
            ["Kestrel:Limits:Http2:InitialStreamWindowSize"] = "2097152",
        });

        var grpc = app.Services.GetRequiredService<IOptions<GrpcServiceOptions>>().Value;
        Assert.Equal(1234567, grpc.MaxReceiveMessageSize);
        Assert.Equal(7654321, grpc.MaxSendMessageSize);
        Assert.Equal(System.IO.Compression.CompressionLevel.SmallestSize, grpc.ResponseCompressionLevel);
        Assert.False(grpc.EnableDetailedErrors);
        Assert.Equal(["gzip", "deflate"], grpc.CompressionProviders.Select(p => p.EncodingName));
        Assert.Equal(2048, app.Services.GetRequiredService<IOptions<GrpcServerSettings>>().Value.MaxRequestMetadataSize);
        Assert.Equal(TimeSpan.FromSeconds(7), app.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
        Assert.Equal(TimeSpan.FromSeconds(3), app.Services.GetRequiredService<IOptions<HostingSettings>>().Value.ShutdownDelay);

        var limits = app.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;
        Assert.Equal(2097152, limits.Http2.InitialStreamWindowSize);
        Assert.Equal(4 * 1024 * 1024, limits.Http2.InitialConnectionWindowSize);
        Assert.Equal(64 * 1024, limits.MaxRequestHeadersTotalSize);
        Assert.Equal(64 * 1024, limits.Http2.MaxRequestHeaderFieldSize);
        Assert.Equal(100, limits.Http2.MaxStreamsPerConnection);
        Assert.Null(limits.MaxRequestBodySize);
        Assert.Null(limits.MinRequestBodyDataRate);
    }

    [Fact]
    public async Task Oversized_metadata_gets_RESOURCE_EXHAUSTED_not_an_HTTP2_reset()
    {
        await using var host = await ServiceHost.StartAsync("metadata-test");
        using var channel = GrpcChannel.ForAddress(host.Address);
        var headers = new Metadata { { "x-large", new string('a', 40 * 1024) } };

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await new HealthClient(channel).CheckAsync(new HealthCheckRequest(), headers));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("the limit is 16384 (Grpc:MaxRequestMetadataSize)", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_metadata_limit_comes_from_configuration()
    {
        await using var host = await ServiceHost.StartAsync("metadata-limit-test", new Dictionary<string, string?>
        {
            ["Grpc:MaxRequestMetadataSize"] = "1024",
        });
        using var channel = GrpcChannel.ForAddress(host.Address);
        var client = new HealthClient(channel);

        await client.CheckAsync(new HealthCheckRequest(), new Metadata { { "x-small", new string('a', 500) } });
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.CheckAsync(new HealthCheckRequest(), new Metadata { { "x-large", new string('a', 2000) } }));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("the limit is 1024", error.Status.Detail, StringComparison.Ordinal);
    }
}
