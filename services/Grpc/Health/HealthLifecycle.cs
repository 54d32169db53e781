using Microservices.Grpc.Server;
using Microsoft.Extensions.Hosting;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Microservices.Grpc.Health;

/// <summary>Every registered service (and "") is SERVING once the host starts and NOT_SERVING as it stops.</summary>
internal sealed class HealthLifecycle(
    HealthStatusRegistry registry,
    GrpcServiceRegistrations registrations,
    IHostApplicationLifetime lifetime) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        registry.SetStatus("", ServingStatus.Serving);
        foreach (var service in registrations.Services)
        {
            if (registry.GetStatus(service.FullName) is null)
            {
                registry.SetStatus(service.FullName, ServingStatus.Serving);
            }
        }

        lifetime.ApplicationStopping.Register(registry.SetAllNotServing);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
