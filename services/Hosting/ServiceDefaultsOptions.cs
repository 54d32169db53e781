using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microservices.Hosting;

/// <summary>Code-only additions to the defaults; everything operators set lives in configuration.</summary>
public sealed class ServiceDefaultsOptions
{
    /// <summary>Runs last on the tracer provider builder: add a processor, an exporter (tests use the in-memory one) or a source.</summary>
    public Action<TracerProviderBuilder>? ConfigureTracing { get; set; }

    /// <summary>Runs last on the meter provider builder: add a reader, exporter or another Meter.</summary>
    public Action<MeterProviderBuilder>? ConfigureMetrics { get; set; }
}
