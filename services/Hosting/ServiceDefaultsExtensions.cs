using Microservices.Grpc.Server;
using Microservices.Hosting.Kestrel;
using Microservices.Hosting.Logging;
using Microservices.Hosting.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
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
/// app.MapServiceDefaults();
/// app.Run();
/// </code>
/// </summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>
    /// Configures Kestrel for gRPC (h2c on 127.0.0.1:<paramref name="defaultPort"/> unless
    /// Kestrel endpoints or urls are configured), our gRPC server (options from section "Grpc"),
    /// OpenTelemetry tracing and metrics (OTLP when OTEL_EXPORTER_OTLP_*ENDPOINT is set), console
    /// logging and the shutdown timeout.
    /// </summary>
    /// <returns>
    /// The gRPC server builder, to add the service's implementations and interceptors. A service's
    /// own extensions can get the same builder again with <c>builder.Services.AddGrpcServer()</c>.
    /// </returns>
    public static GrpcServerBuilder AddServiceDefaults(
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

        var hosting = builder.Configuration.GetSection(HostingSettings.SectionName);
        builder.Services.AddOptions<HostingSettings>().Bind(hosting);
        builder.Services.AddOptions<HostOptions>().Configure<IOptions<HostingSettings>>(
            (host, settings) => host.ShutdownTimeout = settings.Value.ShutdownTimeout);

        // Registered before the gRPC server's hosted services so the providers exist (and listen)
        // before the first call is served, and are flushed after the last one.
        builder.Services.AddServiceTelemetry(serviceName, options);

        var grpc = builder.Services.AddGrpcServer();
        builder.Services.AddOptions<GrpcServerOptions>().Bind(builder.Configuration.GetSection("Grpc"));
        return grpc;
    }

    /// <summary>Serves the registered gRPC services (health and reflection included).</summary>
    public static WebApplication MapServiceDefaults(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseGrpcServices();
        return app;
    }
}
