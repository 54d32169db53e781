using Microsoft.Extensions.Configuration;

namespace Microservices.Hosting.Telemetry;

/// <summary>
/// Whether a signal is exported over OTLP. Unlike the specification's default (OTLP to
/// localhost:4317 always), nothing is exported until an endpoint is configured, so a developer's
/// machine without a collector does not log export failures.
/// </summary>
internal readonly record struct OtlpSettings(bool Enabled, string? Endpoint, string? Warning)
{
    public static OtlpSettings ForTraces(IConfiguration configuration) =>
        For(configuration, "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");

    public static OtlpSettings ForMetrics(IConfiguration configuration) =>
        For(configuration, "OTEL_METRICS_EXPORTER", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");

    private static OtlpSettings For(IConfiguration configuration, string exporterKey, string signalEndpointKey)
    {
        if (string.Equals(configuration["OTEL_SDK_DISABLED"], "true", StringComparison.OrdinalIgnoreCase))
        {
            return new OtlpSettings(false, null, null);
        }

        // OTEL_*_EXPORTER is a comma-separated list; only "otlp" and "none" mean something here.
        var exporters = (configuration[exporterKey] ?? "otlp")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (exporters.Contains("none", StringComparer.OrdinalIgnoreCase) || exporters.Length == 0)
        {
            return new OtlpSettings(false, null, null);
        }

        var unsupported = exporters.Where(e => !e.Equals("otlp", StringComparison.OrdinalIgnoreCase)).ToArray();
        var warning = unsupported.Length > 0 ? $"{exporterKey}={string.Join(',', unsupported)} is not supported (only otlp, none)" : null;
        if (!exporters.Contains("otlp", StringComparer.OrdinalIgnoreCase))
        {
            return new OtlpSettings(false, null, warning);
        }

        var endpoint = NonEmpty(configuration[signalEndpointKey]) ?? NonEmpty(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        return new OtlpSettings(endpoint is not null, endpoint, warning);
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
