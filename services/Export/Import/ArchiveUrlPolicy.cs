using System.Net;
using System.Net.Sockets;
using Microservices.Export.Domain;
using Microservices.Export.Extensions;

namespace Microservices.Export.Import;

/// <summary>
/// Which archive_url the export may fetch, so a caller cannot make it reach what only the service can
/// reach (metadata endpoints, loopback admin ports, the private network): https only (unless
/// Export:Import:AllowHttpUrls), and no host resolving to a loopback, private, link-local, unspecified
/// or multicast address unless it is in Export:Import:AllowedUrlHosts. The address is checked again
/// when the connection is made (<see cref="ConnectAsync"/>), so a name that resolves differently
/// the second time (DNS rebinding) gains nothing; redirects are not followed.
/// </summary>
internal sealed class ArchiveUrlPolicy(ExportOptions options)
{
    private readonly HashSet<string> _allowedHosts = options.Import.AllowedUrlHosts
        .Where(h => !string.IsNullOrWhiteSpace(h)).Select(h => h.Trim()).ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>The URL, or INVALID_ARGUMENT naming the rule it breaks.</summary>
    public Uri Parse(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new ExportException(ExportErrorKind.InvalidArgument, "archive_url must be an absolute http or https URL.");
        }

        if (uri.Scheme == "http" && !options.Import.AllowHttpUrls)
        {
            throw new ExportException(ExportErrorKind.InvalidArgument, "archive_url must be https (plain http is off unless Export:Import:AllowHttpUrls).");
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            throw new ExportException(ExportErrorKind.InvalidArgument, "archive_url must not carry a user name or password.");
        }

        return uri;
    }

    /// <summary>PERMISSION_DENIED when the URL's host is one the export must not reach for a caller.</summary>
    public async Task CheckAsync(Uri url, CancellationToken cancellationToken)
    {
        if (IsAllowedHost(url.IdnHost))
        {
            return;
        }

        var addresses = await ResolveAsync(url.IdnHost, cancellationToken).ConfigureAwait(false);
        if (addresses.FirstOrDefault(a => !IsPublic(a)) is { } refused)
        {
            throw Refused(url.IdnHost, refused);
        }
    }

    /// <summary>SocketsHttpHandler.ConnectCallback: connects only to a permitted address of the host.</summary>
    public ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken) =>
        ConnectAsync(context.DnsEndPoint, cancellationToken);

    public async ValueTask<Stream> ConnectAsync(DnsEndPoint endPoint, CancellationToken cancellationToken)
    {
        var host = endPoint.Host;
        var addresses = await ResolveAsync(host, cancellationToken).ConfigureAwait(false);
        if (!IsAllowedHost(host) && addresses.FirstOrDefault(a => !IsPublic(a)) is { } refused)
        {
            throw Refused(host, refused);
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, endPoint.Port, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A SocketsHttpHandler that goes through <see cref="ConnectAsync"/> and follows no redirect.</summary>
    public SocketsHttpHandler Handler() => new()
    {
        AllowAutoRedirect = false,
        ConnectCallback = ConnectAsync,
        UseProxy = false,
    };

    /// <summary>A public unicast address: not loopback, private, shared (CGNAT), link-local, unique-local, unspecified, multicast or broadcast.</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address))
        {
            return false;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return !(b[0] is 0 or 10 or 127 or >= 224
                || (b[0] == 100 && b[1] is >= 64 and <= 127)
                || (b[0] == 169 && b[1] == 254)
                || (b[0] == 172 && b[1] is >= 16 and <= 31)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 192 && b[1] == 0 && b[2] == 0));
        }

        // ::/16 holds the unspecified and loopback addresses and the deprecated IPv4-compatible ones.
        var v6 = address.GetAddressBytes();
        return !((v6[0] == 0 && v6[1] == 0)
            || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || address.IsIPv6UniqueLocal);
    }

    private bool IsAllowedHost(string host) => _allowedHosts.Contains(host);

    private static async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host, out var literal))
        {
            return [literal];
        }

        try
        {
            var addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
            return addresses.Length > 0 ? addresses : throw Unresolved(host);
        }
        catch (SocketException)
        {
            throw Unresolved(host);
        }
    }

    private static ExportException Unresolved(string host) =>
        new(ExportErrorKind.InvalidArgument, $"archive_url's host {host} does not resolve.");

    private static ExportException Refused(string host, IPAddress address) =>
        new(ExportErrorKind.PermissionDenied,
            $"archive_url's host {host} resolves to {address}, a loopback, private, link-local or otherwise non-public address the export does not fetch from (unless the host is in Export:Import:AllowedUrlHosts).");
}
