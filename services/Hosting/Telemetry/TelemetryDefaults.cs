using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Microservices.Hosting.Telemetry;

/// <summary>
/// OpenTelemetry through OpenTelemetry.Extensions.Hosting: server spans from ASP.NET Core with the
/// rpc semantic conventions, client spans from Grpc.Net.Client and HttpClient, Redis commands,
/// our own "Microservices.*" sources and meters, runtime metrics; OTLP when an endpoint is set.
/// </summary>
internal static class TelemetryDefaults
{
    /// <summary>Every team library names its ActivitySource and Meter "Microservices.&lt;Area&gt;".</summary>
    public const string SourcePattern = "Microservices.*";

    /// <summary>The ASP.NET Core instrumentation adds rpc.* attributes to gRPC server spans only when asked.</summary>
    internal const string GrpcServerSpansKey = "OTEL_DOTNET_EXPERIMENTAL_ASPNETCORE_ENABLE_GRPC_INSTRUMENTATION";

    public static void AddServiceTelemetry(this IServiceCollection services, IConfigurationManager configuration, string serviceName, ServiceDefaultsOptions options)
    {
        // First source, so the environment or appsettings can still turn it off.
        configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource
        {
            InitialData = [new(GrpcServerSpansKey, "true")],
        });

        var traces = OtlpSettings.ForTraces(configuration);
        var metrics = OtlpSettings.ForMetrics(configuration);
        services.AddHostedService(sp => new ExporterAnnouncement(sp.GetRequiredService<ILoggerFactory>(), traces, metrics));

        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.Clear()
                .AddService(serviceName)
                .AddTelemetrySdk()
                .AddEnvironmentVariableDetector())
            .WithTracing(tracing =>
            {
                tracing.AddSource(SourcePattern)
                    .AddAspNetCoreInstrumentation()
                    .AddGrpcClientInstrumentation(grpc => grpc.SuppressDownstreamInstrumentation = true)
                    .AddHttpClientInstrumentation()
                    .AddRedisInstrumentation();
                if (traces.Enabled)
                {
                    tracing.AddOtlpExporter();
                }

                options.ConfigureTracing?.Invoke(tracing);
            })
            .WithMetrics(metering =>
            {
                // grpc-dotnet publishes EventCounters, not Meters; per-method call durations come
                // from ASP.NET Core's http.server.request.duration (http.route is the gRPC method).
                metering.AddMeter(SourcePattern)
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation();
                if (metrics.Enabled)
                {
                    metering.AddOtlpExporter();
                }

                options.ConfigureMetrics?.Invoke(metering);
            });
    }
}
