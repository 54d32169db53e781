using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Microservices.Hosting.Telemetry;

/// <summary>Says at start where traces and metrics go, or why they go nowhere.</summary>
internal sealed class ExporterAnnouncement(ILoggerFactory loggers, OtlpSettings traces, OtlpSettings metrics) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger("Microservices.Hosting.Telemetry");
        Announce(logger, "traces", traces);
        Announce(logger, "metrics", metrics);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static void Announce(ILogger logger, string signal, OtlpSettings settings)
    {
        if (settings.Enabled)
        {
            logger.LogInformation("Exporting {Signal} over OTLP to {Endpoint}", signal, settings.Endpoint);
        }
        else if (settings.Warning is { } warning)
        {
            logger.LogWarning("Not exporting {Signal}: {Reason}", signal, warning);
        }
    }
}
