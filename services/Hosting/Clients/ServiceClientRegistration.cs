using Grpc.Core;
using Grpc.Net.ClientFactory;
using Microservices.Clients;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Microservices.Hosting.Clients;

public static class ServiceClientRegistration
{
    /// <summary>
    /// Registers a generated client (e.g. <c>ModelRegistry.ModelRegistryClient</c>) with
    /// Grpc.Net.ClientFactory, configured from <paramref name="section"/> (<see cref="GrpcClientOptions"/>:
    /// Address, Tls, DnsRefreshInterval, retry settings). A call made while serving a call inherits
    /// that call's deadline and cancellation; outside a call the client works as usual.
    /// </summary>
    public static IHttpClientBuilder AddServiceClient<TClient>(this IServiceCollection services, IConfiguration section)
        where TClient : ClientBase
    {
        ArgumentNullException.ThrowIfNull(section);
        var options = new GrpcClientOptions();
        section.Bind(options);
        options.Validate();

        return services
            .AddGrpcClient<TClient>(client => client.Address = new Uri(options.Address))
            .ConfigureChannel(channel => GrpcChannels.Configure(channel, options))
            .ConfigurePrimaryHttpMessageHandler(() => GrpcChannels.CreateHandler(options))
            .EnableCallContextPropagation(propagation => propagation.SuppressContextNotFoundErrors = true);
    }
}
