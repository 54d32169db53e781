using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microservices.Hosting.Telemetry;

/// <summary>
/// Creates the providers as the host starts (resolving them starts their listeners) and flushes
/// them as it stops. Registered before the gRPC server's hosted services, so it starts before
/// the first call and stops after the server has drained. The container disposes the providers.
/// </summary>
internal sealed class TelemetryLifetime(TracerProvider tracing, MeterProvider metrics) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken)
    {
        // Flush within what is left of the shutdown timeout; the rest is exported on dispose.
        return Task.Run(() =>
        {
            tracing.ForceFlush(FlushTimeoutMilliseconds);
            metrics.ForceFlush(FlushTimeoutMilliseconds);
        }, cancellationToken).WaitAsync(cancellationToken);
    }

    private const int FlushTimeoutMilliseconds = 5000;
}
