using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microservices.Grpc.Server;

/// <summary>Registers service implementations and interceptors with a host's gRPC server.</summary>
public sealed class GrpcServerBuilder
{
    private readonly GrpcServiceRegistrations _registrations;

    internal GrpcServerBuilder(IServiceCollection services, GrpcServiceRegistrations registrations)
    {
        Services = services;
        _registrations = registrations;
    }

    public IServiceCollection Services { get; }

    /// <summary>
    /// Serves <paramref name="service"/> with <typeparamref name="TImplementation"/>, created per
    /// call (scoped) unless <paramref name="lifetime"/> says otherwise: a stateless handler over
    /// singletons can be a singleton and skip the per-request DI scope. Throws now if the class
    /// lacks any method of the service.
    /// </summary>
    public GrpcServerBuilder AddService<TImplementation>(ServiceDescriptor service, ServiceLifetime lifetime = ServiceLifetime.Scoped)
        where TImplementation : class
    {
        _registrations.Add(service, ServiceBinder.Bind(typeof(TImplementation), service, lifetime == ServiceLifetime.Singleton));
        Services.TryAdd(new Microsoft.Extensions.DependencyInjection.ServiceDescriptor(typeof(TImplementation), typeof(TImplementation), lifetime));
        return this;
    }

    /// <summary>
    /// Adds an interceptor, a singleton (an instance registered as <typeparamref name="TInterceptor"/>
    /// is used if there is one); interceptors run in the order they are added.
    /// </summary>
    public GrpcServerBuilder AddInterceptor<TInterceptor>()
        where TInterceptor : class, IServerInterceptor
    {
        Services.TryAddSingleton<TInterceptor>();
        Services.AddSingleton<IServerInterceptor>(provider => provider.GetRequiredService<TInterceptor>());
        return this;
    }
}
