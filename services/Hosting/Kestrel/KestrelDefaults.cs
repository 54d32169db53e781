using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;

namespace Microservices.Hosting.Kestrel;

/// <summary>
/// Kestrel as a gRPC server. Endpoints come from the standard "Kestrel" configuration section
/// (or urls / ASPNETCORE_URLS); only when none is configured does the host listen h2c on
/// 127.0.0.1:defaultPort. Limits are set for gRPC first, then "Kestrel:Limits" overrides them.
/// Transport: "Hosting:Tls" puts TLS (optionally mutual) on every endpoint, and an endpoint that
/// would be plaintext on a non-loopback address stops the host unless "Hosting:AllowPlaintext" is true.
/// "Hosting:HealthPort" adds a plaintext listener on every address that serves health only (HealthPort).
/// </summary>
internal static class KestrelDefaults
{
    /// <summary>
    /// Above the metadata limit of RequestMetadataLimitInterceptor (GrpcServerSettings.MaxRequestMetadataSize, 16 KiB)
    /// so oversized metadata gets a gRPC RESOURCE_EXHAUSTED instead of a bare HTTP/2 reset.
    /// </summary>
    public const int MaxRequestHeadersTotalSize = 64 * 1024;

    /// <summary>Per-stream flow-control window: one 1 MiB window in flight keeps large uploads moving.</summary>
    public const int InitialStreamWindowSize = 1024 * 1024;

    /// <summary>Per-connection window, several streams' worth; bounds buffered request data per connection.</summary>
    public const int InitialConnectionWindowSize = 4 * 1024 * 1024;

    public static void Configure(IWebHostBuilder webHost, int defaultPort)
    {
        // CreateSlimBuilder leaves out Kestrel's HTTPS configuration support; without it a
        // Kestrel:Endpoints:*:Certificate in configuration would fail at startup.
        webHost.UseKestrelHttpsConfiguration();
        webHost.ConfigureKestrel((context, kestrel) =>
        {
            var configuration = context.Configuration;
            ApplyLimits(kestrel.Limits);
            configuration.GetSection("Kestrel:Limits").Bind(kestrel.Limits);

            var hosting = configuration.GetSection(HostingSettings.SectionName).Get<HostingSettings>() ?? new HostingSettings();
            var tls = ServerTls.From(hosting.Tls);

            // Every endpoint, the default one, those from configuration and those a service adds in
            // code (the blob gateway), gets the same transport rules.
            var protocolsConfigured = !string.IsNullOrEmpty(configuration["Kestrel:EndpointDefaults:Protocols"]);
            kestrel.ConfigureEndpointDefaults(listen =>
            {
                // Cleartext HTTP/2 needs Protocols=Http2 (prior knowledge): Kestrel's Http1AndHttp2
                // default would serve only HTTP/1.1 without TLS. An explicit setting still wins.
                if (!protocolsConfigured)
                {
                    listen.Protocols = HttpProtocols.Http2;
                }

                // Before Kestrel's own https handling, which then leaves a TLS endpoint as it is.
                // The health port stays plaintext: it is there for probes that cannot do TLS.
                if (tls is not null && !HealthPort.Is(listen, hosting))
                {
                    listen.UseHttps(tls.HttpsOptions());
                }
            });

            if (!HasConfiguredEndpoints(configuration))
            {
                kestrel.Listen(IPAddress.Loopback, defaultPort);
            }

            if (hosting.HealthPort is { } healthPort)
            {
                kestrel.ListenAnyIP(healthPort);
            }
        });
    }

    internal static void ApplyLimits(KestrelServerLimits limits)
    {
        limits.MaxRequestHeadersTotalSize = MaxRequestHeadersTotalSize;
        limits.Http2.MaxRequestHeaderFieldSize = MaxRequestHeadersTotalSize;
        limits.Http2.InitialStreamWindowSize = InitialStreamWindowSize;
        limits.Http2.InitialConnectionWindowSize = InitialConnectionWindowSize;

        // Message size is grpc-dotnet's limit (Grpc:MaxReceiveMessageSize, per message);
        // Kestrel's 30 MB per request body would cut long client-streaming uploads.
        limits.MaxRequestBodySize = null;

        // A streaming call may legitimately send nothing for minutes (Watch, duplex); the
        // 240 B/s minimum would reset it. Dead peers are found by keep-alive pings instead.
        limits.MinRequestBodyDataRate = null;
        limits.Http2.KeepAlivePingDelay = TimeSpan.FromMinutes(1);
        limits.Http2.KeepAlivePingTimeout = TimeSpan.FromSeconds(20);
    }

    /// <summary>Endpoints an operator configured the standard way, which must replace the default.</summary>
    internal static bool HasConfiguredEndpoints(IConfiguration configuration) =>
        configuration.GetSection("Kestrel:Endpoints").GetChildren().Any() ||
        !string.IsNullOrEmpty(configuration["urls"]) ||
        !string.IsNullOrEmpty(configuration["http_ports"]) ||
        !string.IsNullOrEmpty(configuration["https_ports"]);
}
