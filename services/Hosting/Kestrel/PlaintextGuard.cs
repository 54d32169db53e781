using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microservices.Hosting.Kestrel;

/// <summary>
/// Stops the host's start when an endpoint serves plaintext on an address other than loopback,
/// unless Hosting:AllowPlaintext says so. It reads the addresses Kestrel bound (https:// for a TLS
/// endpoint), so every source of TLS (Hosting:Tls, an https:// URL, Kestrel:Endpoints:*:Certificate,
/// an endpoint a service adds in code) has had its say. Runs right after the server started, before
/// the host reports itself started, so the process fails instead of serving.
/// </summary>
internal sealed class PlaintextGuard(IServer server, IOptions<HostingSettings> settings) : IHostedLifecycleService
{
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        if (settings.Value.AllowPlaintext)
        {
            return Task.CompletedTask;
        }

        var exposed = PlaintextAddresses(server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [], settings.Value.HealthPort).ToList();
        return exposed.Count == 0
            ? Task.CompletedTask
            : throw new InvalidOperationException(
                $"Refusing to listen in plaintext on {string.Join(", ", exposed)}: not a loopback address. Configure TLS " +
                $"({HostingSettings.SectionName}:Tls:CertificatePath and {HostingSettings.SectionName}:Tls:KeyPath), " +
                $"or set {HostingSettings.SectionName}:AllowPlaintext=true to serve unencrypted traffic on purpose.");
    }

    /// <summary>
    /// http:// addresses reachable from other machines: any IP, a non-loopback IP, or a host name
    /// (Kestrel binds those on every interface). The health port is not one: it answers only
    /// grpc.health.v1 (HealthPort), so no data crosses it.
    /// </summary>
    internal static IEnumerable<string> PlaintextAddresses(IEnumerable<string> addresses, int? healthPort) =>
        addresses.Where(address =>
        {
            var binding = BindingAddress.Parse(address);
            if (binding.Scheme != "http" || binding.IsUnixPipe || binding.IsNamedPipe || binding.Port == healthPort)
            {
                return false;
            }

            var host = binding.Host.Trim('[', ']');
            return IPAddress.TryParse(host, out var ip) ? !IPAddress.IsLoopback(ip) : !string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase);
        });

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
