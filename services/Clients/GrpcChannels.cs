using System.Net.Http;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Microservices.Clients.Tls;

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
        var channelOptions = new GrpcChannelOptions { HttpHandler = CreateHandler(options), DisposeHttpClient = true };
        Configure(channelOptions, options);
        return GrpcChannel.ForAddress(options.Address, channelOptions);
    }

    /// <summary>
    /// Channel settings shared with the client factory: service config, this client's DNS
    /// resolver, credentials, limits. The factory has set <see cref="GrpcChannelOptions.ServiceProvider"/>
    /// to the container by then; a CLI has none.
    /// </summary>
    internal static void Configure(GrpcChannelOptions channel, GrpcClientOptions options)
    {
        channel.ServiceConfig = IdempotentRetryPolicy.ServiceConfigFor(Contracts.All, options);
        channel.MaxReceiveMessageSize = options.MaxReceiveMessageSize;
        channel.ServiceProvider = new WithDnsResolver(new DnsResolverFactory(options.DnsRefreshInterval), channel.ServiceProvider);
        if (new Uri(options.Address).Scheme == "dns")
        {
            channel.Credentials = options.Tls ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure;
        }
    }

    /// <summary>
    /// HTTP/2 as a long-lived RPC connection wants it: more than one connection once 100 streams
    /// are in flight, keep-alive pings to find dead peers of idle streams, no idle close. TLS
    /// trusts the configured CA instead of the machine's roots and presents the client certificate
    /// (files read here, so a handler the client factory recycles picks up rotated files).
    /// </summary>
    internal static SocketsHttpHandler CreateHandler(GrpcClientOptions? options = null)
    {
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            KeepAlivePingDelay = TimeSpan.FromSeconds(60),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        if (options is not null)
        {
            ClientTls.Apply(handler.SslOptions, options);
        }

        return handler;
    }

    /// <summary>
    /// A channel takes its resolver factories from its service provider. One registered in the
    /// container would serve every client with one refresh interval; this gives each channel the
    /// DNS resolver of its own options and leaves everything else (loggers, other schemes) as it was.
    /// </summary>
    private sealed class WithDnsResolver(ResolverFactory dns, IServiceProvider? inner) : IServiceProvider
    {
        public object? GetService(Type serviceType)
        {
            if (serviceType != typeof(IEnumerable<ResolverFactory>))
            {
                return inner?.GetService(serviceType);
            }

            var others = inner?.GetService(serviceType) as IEnumerable<ResolverFactory> ?? [];
            return others.Where(factory => factory.Name != dns.Name).Prepend(dns).ToArray();
        }
    }
}
