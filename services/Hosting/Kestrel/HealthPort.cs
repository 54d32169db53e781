using Microservices.Hosting.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Microservices.Hosting.Kestrel;

/// <summary>
/// "Hosting:HealthPort": Kubernetes' native gRPC probes speak only plaintext, so a host with TLS
/// on its gRPC port cannot be probed there. This second port is plaintext and serves nothing but
/// grpc.health.v1.Health; every other call on it is UNIMPLEMENTED before routing, so no data and no
/// authenticated method is ever reachable without TLS.
/// </summary>
internal static class HealthPort
{
    private const string HealthService = "/grpc.health.v1.Health";

    public static bool Is(ListenOptions listen, HostingSettings hosting) =>
        hosting.HealthPort is { } port && listen.IPEndPoint?.Port == port;

    /// <summary>Runs first in every pipeline, so routing, authentication and the services never see a refused call.</summary>
    internal sealed class OnlyHealthFilter(IOptions<HostingSettings> settings) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            if (settings.Value.HealthPort is { } port)
            {
                app.Use((context, nextMiddleware) =>
                    context.Connection.LocalPort != port || context.Request.Path.StartsWithSegments(HealthService, StringComparison.Ordinal)
                        ? nextMiddleware(context)
                        : Refuse(context.Response, port));
            }

            next(app);
        };

        private static Task Refuse(HttpResponse response, int port)
        {
            GrpcTrailersOnly.Write(response, Grpc.Core.StatusCode.Unimplemented, $"port {port} (Hosting:HealthPort) serves only grpc.health.v1.Health");
            return Task.CompletedTask;
        }
    }
}
