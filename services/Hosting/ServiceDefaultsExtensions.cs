using Grpc.AspNetCore.HealthChecks;
using Grpc.AspNetCore.Server;
using Grpc.Net.Compression;
using Microservices.Hosting.Server;
using Microservices.Hosting.Health;
using Microservices.Hosting.Kestrel;
using Microservices.Hosting.Limits;
using Microservices.Hosting.Logging;
using Microservices.Hosting.Telemetry;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microservices.Hosting;

/// <summary>
/// What every service host shares, so a service's Program.cs stays a few lines:
/// <code>
/// var builder = WebApplication.CreateSlimBuilder(args);
/// builder.AddServiceDefaults("registry", defaultPort: 50052);
/// builder.AddRegistryServices();
/// var app = builder.Build();
/// app.MapGrpcService&lt;ModelRegistryService&gt;();
/// app.MapServiceDefaults();
/// app.Run();
/// </code>
/// </summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>
    /// Kestrel for gRPC (h2c on 127.0.0.1:<paramref name="defaultPort"/> unless endpoints are
    /// configured), Grpc.AspNetCore with limits from section "Grpc", health and reflection,
    /// OpenTelemetry (OTLP when OTEL_EXPORTER_OTLP_*ENDPOINT is set), console logging and shutdown.
    /// </summary>
    /// <returns>The gRPC server builder, to add a service's own interceptors.</returns>
    public static IGrpcServerBuilder AddServiceDefaults(
        this WebApplicationBuilder builder,
        string serviceName,
        int defaultPort,
        Action<ServiceDefaultsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceName);
        ArgumentOutOfRangeException.ThrowIfNegative(defaultPort);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(defaultPort, 65535);

        var options = new ServiceDefaultsOptions();
        configure?.Invoke(options);

        builder.Logging.AddServiceDefaultsConsole(builder.Services);
        KestrelDefaults.Configure(builder.WebHost, defaultPort);
        builder.Services.AddConnectionLimits(builder.Configuration);

        builder.Services.AddOptions<HostingSettings>().Bind(builder.Configuration.GetSection(HostingSettings.SectionName));
        builder.Services.AddOptions<HostOptions>().Configure<IOptions<HostingSettings>>(
            (host, settings) => host.ShutdownTimeout = settings.Value.ShutdownTimeout);
        builder.Services.AddHostedService<ShutdownDelay>();
        builder.Services.AddHostedService<PlaintextGuard>();
        builder.Services.AddTransient<Microsoft.AspNetCore.Hosting.IStartupFilter, HealthPort.OnlyHealthFilter>();

        builder.Services.AddServiceTelemetry(builder.Configuration, serviceName, options);

        var grpcSection = builder.Configuration.GetSection(GrpcServerSettings.SectionName);
        builder.Services.AddOptions<GrpcServerSettings>().Bind(grpcSection);
        var settings = grpcSection.Get<GrpcServerSettings>() ?? new GrpcServerSettings();
        // One instance for every call (grpc-dotnet would otherwise activate one per call).
        builder.Services.AddSingleton<RequestMetadataLimitInterceptor>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ServerDeadlineInterceptor>();
        var grpc = builder.Services.AddGrpc(server =>
        {
            server.MaxReceiveMessageSize = settings.MaxReceiveMessageSize;
            server.MaxSendMessageSize = settings.MaxSendMessageSize;
            server.ResponseCompressionLevel = settings.ResponseCompressionLevel;
            server.CompressionProviders = [new GzipCompressionProvider(settings.ResponseCompressionLevel), new DeflateCompressionProvider(settings.ResponseCompressionLevel)];
            server.EnableDetailedErrors = false;
            server.Interceptors.Add<RequestMetadataLimitInterceptor>();
            server.Interceptors.Add<ServerDeadlineInterceptor>();
        });

        builder.Services.AddGrpcHealthChecks().AddCheck<HostLifetimeHealthCheck>("host");
        if (settings.EnableReflection)
        {
            builder.Services.AddGrpcReflection();
        }

        return grpc;
    }

    /// <summary>
    /// Serves health (Check, Watch: "" and every service mapped so far, so call this after the
    /// service's own MapGrpcService) and, unless Grpc:EnableReflection is false, reflection v1 and v1alpha.
    /// </summary>
    public static WebApplication MapServiceDefaults(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // Probes and grpcurl's discovery carry no token.
        app.MapGrpcHealthChecksService().AllowAnonymous();
        if (app.Services.GetRequiredService<IOptions<GrpcServerSettings>>().Value.EnableReflection)
        {
            app.MapGrpcReflectionService().AllowAnonymous();
        }

        MapEveryGrpcService.Into(app.Services.GetRequiredService<IOptions<GrpcHealthChecksOptions>>().Value, app);
        return app;
    }
}
