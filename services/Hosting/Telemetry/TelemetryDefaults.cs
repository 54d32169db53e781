using Microservices.Grpc.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Microservices.Hosting.Telemetry;

/// <summary>
/// Builds the OpenTelemetry providers with Sdk.Create*ProviderBuilder(), because
/// OpenTelemetry.Extensions.Hosting is not restorable here. The providers are DI singletons (so the
/// container disposes, and thereby flushes, them) and <see cref="TelemetryLifetime"/> creates them
/// when the host starts.
/// </summary>
internal static class TelemetryDefaults
{
    /// <summary>Every team library names its ActivitySource and Meter "Microservices.&lt;Area&gt;".</summary>
    public const string SourcePattern = "Microservices.*";

    public static void AddServiceTelemetry(this IServiceCollection services, string serviceName, ServiceDefaultsOptions options)
    {
        services.AddSingleton(sp => BuildTracerProvider(sp, serviceName, options));
        services.AddSingleton(sp => BuildMeterProvider(sp, serviceName, options));
        services.AddHostedService<TelemetryLifetime>();
    }

    internal static TracerProvider BuildTracerProvider(IServiceProvider services, string serviceName, ServiceDefaultsOptions options)
    {
        var configuration = services.GetRequiredService<IConfiguration>();
        var exporter = OtlpSettings.ForTraces(configuration);
        LogExporter(services, "traces", exporter);

        var builder = Sdk.CreateTracerProviderBuilder()
            .ConfigureServices(sdk => sdk.AddSingleton(configuration))
            .ConfigureResource(resource => ConfigureResource(resource, serviceName))
            .AddSource(SourcePattern, GrpcTelemetry.ActivitySourceName);
        if (exporter.Enabled)
        {
            // Endpoint, protocol, headers, timeout, compression: the exporter reads OTEL_* from
            // the IConfiguration given above (environment, appsettings, command line).
            builder.AddOtlpExporter();
        }

        options.ConfigureTracing?.Invoke(builder);
        return builder.Build();
    }

    internal static MeterProvider BuildMeterProvider(IServiceProvider services, string serviceName, ServiceDefaultsOptions options)
    {
        var configuration = services.GetRequiredService<IConfiguration>();
        var exporter = OtlpSettings.ForMetrics(configuration);
        LogExporter(services, "metrics", exporter);

        var builder = Sdk.CreateMeterProviderBuilder()
            .ConfigureServices(sdk => sdk.AddSingleton(configuration))
            .ConfigureResource(resource => ConfigureResource(resource, serviceName))
            .AddMeter(SourcePattern);
        if (exporter.Enabled)
        {
            builder.AddOtlpExporter();
        }

        options.ConfigureMetrics?.Invoke(builder);
        return builder.Build();
    }

    /// <summary>
    /// service.name defaults to the host's name; the environment detector added after it lets
    /// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override it, as the specification asks.
    /// </summary>
    private static void ConfigureResource(ResourceBuilder resource, string serviceName) =>
        resource.Clear()
            .AddService(serviceName)
            .AddTelemetrySdk()
            .AddEnvironmentVariableDetector();

    private static void LogExporter(IServiceProvider services, string signal, OtlpSettings settings)
    {
        var logger = services.GetService<ILoggerFactory>()?.CreateLogger("Microservices.Hosting.Telemetry");
        if (logger is null)
        {
            return;
        }

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
