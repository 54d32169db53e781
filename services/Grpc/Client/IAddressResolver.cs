using System.Net;

namespace Microservices.Grpc.Client;

/// <summary>Turns a target host into the addresses calls are balanced over.</summary>
public interface IAddressResolver
{
    Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, CancellationToken cancellationToken);
}

/// <summary>Every A and AAAA record of the name; a Kubernetes headless Service answers one per pod.</summary>
public sealed class DnsAddressResolver : IAddressResolver
{
    public async Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, CancellationToken cancellationToken) =>
        await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
}
