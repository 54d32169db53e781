using System.Net.Http;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;

namespace Microservices.Clients;

/// <summary>
/// Builds the channel every caller outside a host uses (CLIs, tests, benchmarks). Inside a host,
/// Microservices.Hosting's AddServiceClient registers the same settings with Grpc.Net.ClientFactory.
/// </summary>
public static class GrpcChannels
{
    public static GrpcChannel Create(string address) => Create(new GrpcClientOptions { Address = address });

    public static GrpcChannel Create(GrpcClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var channelOptions = new GrpcChannelOptions { HttpHandler = CreateHandler(), DisposeHttpClient = true };
        Configure(channelOptions, options, ResolverServices(options));
        return GrpcChannel.ForAddress(options.Address, channelOptions);
    }

    /// <summary>Channel settings shared with the client factory: service config, credentials, limits.</summary>
    internal static void Configure(GrpcChannelOptions channel, GrpcClientOptions options, IServiceProvider? services)
    {
        channel.ServiceConfig = IdempotentRetryPolicy.ServiceConfigFor(Contracts.All, options);
        channel.MaxReceiveMessageSize = options.MaxReceiveMessageSize;
        channel.ServiceProvider = services ?? channel.ServiceProvider;
        if (new Uri(options.Address).Scheme == "dns")
        {
            channel.Credentials = options.Tls ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure;
        }
    }

    /// <summary>
    /// HTTP/2 as a long-lived RPC connection wants it: more than one connection once 100 streams
    /// are in flight, keep-alive pings to find dead peers of idle streams, no idle close.
    /// </summary>
    internal static SocketsHttpHandler CreateHandler() => new()
    {
        EnableMultipleHttp2Connections = true,
        KeepAlivePingDelay = TimeSpan.FromSeconds(60),
        KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
        KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
        PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        ConnectTimeout = TimeSpan.FromSeconds(10),
    };

    internal static ResolverFactory DnsResolver(GrpcClientOptions options) => new DnsResolverFactory(options.DnsRefreshInterval);

    // A channel finds its resolver factories in its service provider; a CLI has no container.
    private static IServiceProvider ResolverServices(GrpcClientOptions options) => new ResolverOnly(DnsResolver(options));

    private sealed class ResolverOnly(ResolverFactory dns) : IServiceProvider
    {
        public object? GetService(Type serviceType) =>
            serviceType == typeof(IEnumerable<ResolverFactory>) ? new[] { dns } : null;
    }
}
