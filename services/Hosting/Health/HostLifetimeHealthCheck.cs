using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Microservices.Hosting.Health;

/// <summary>
/// Healthy while the host runs, unhealthy from the moment shutdown begins, so Check answers
/// NOT_SERVING before the listener closes (and during Hosting:ShutdownDelay).
/// </summary>
internal sealed class HostLifetimeHealthCheck(IHostApplicationLifetime lifetime) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(lifetime.ApplicationStopping.IsCancellationRequested
            ? HealthCheckResult.Unhealthy("the host is shutting down")
            : HealthCheckResult.Healthy());
}
