using Grpc.Health.V1;
using Microservices.Grpc.Health;
using Microservices.Grpc.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microservices.Grpc.Server;

public static class GrpcServerExtensions
{
    /// <summary>
    /// Adds the gRPC server with health (grpc.health.v1) and reflection (v1 and v1alpha) already
    /// registered. Calling it again returns a builder over the same registrations.
    /// </summary>
    public static GrpcServerBuilder AddGrpcServer(this IServiceCollection services, Action<GrpcServerOptions>? configure = null)
    {
        var optionsBuilder = services.AddOptions<GrpcServerOptions>();
        if (configure is not null)
        {
            optionsBuilder.Configure(configure);
        }

        var existing = services.FirstOrDefault(d => d.ServiceType == typeof(GrpcServiceRegistrations))?.ImplementationInstance;
        if (existing is GrpcServiceRegistrations registrations)
        {
            return new GrpcServerBuilder(services, registrations);
        }

        registrations = new GrpcServiceRegistrations();
        services.AddSingleton(registrations);
        services.TryAddSingleton<ServerCallDispatcher>();
        services.TryAddSingleton<HealthStatusRegistry>();
        services.TryAddSingleton<ReflectionIndex>();
        services.AddHostedService<HealthLifecycle>();
        return new GrpcServerBuilder(services, registrations)
            .AddService<HealthService>(HealthReflection.Descriptor.Services[0])
            .AddService<ServerReflectionV1>(global::Grpc.Reflection.V1.ReflectionReflection.Descriptor.Services[0])
            .AddService<ServerReflectionV1Alpha>(global::Grpc.Reflection.V1Alpha.ReflectionReflection.Descriptor.Services[0]);
    }

    /// <summary>Serves every registered gRPC method; other requests fall through to the rest of the pipeline.</summary>
    public static IApplicationBuilder UseGrpcServices(this IApplicationBuilder app)
    {
        var dispatcher = app.ApplicationServices.GetRequiredService<ServerCallDispatcher>();
        return app.Use(dispatcher.Middleware);
    }
}
