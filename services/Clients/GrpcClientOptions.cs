using System.Net.Security;
using Microservices.Clients.Tls;

namespace Microservices.Clients;

/// <summary>How a caller reaches one service. Bound from a configuration section such as "Clients:Registry".</summary>
public sealed class GrpcClientOptions
{
    /// <summary>
    /// <c>http://host:port</c> (h2c), <c>https://host:port</c> (TLS), or <c>dns:///host:port</c>:
    /// every address the name resolves to, balanced round-robin and resolved again every
    /// <see cref="DnsRefreshInterval"/> (one address per pod behind a headless Service).
    /// </summary>
    public string Address { get; set; } = "";

    /// <summary>TLS for a <c>dns:///</c> address; an http or https address says so itself.</summary>
    public bool Tls { get; set; }

    /// <summary>
    /// PEM file of the CA (or CAs) the server's certificate must chain to, instead of the machine's
    /// roots: a private CA, and only it. Unset: the machine's trusted roots.
    /// </summary>
    public string? CaCertificatePath { get; set; }

    /// <summary>PEM client certificate (optionally followed by its intermediates) for a server that requires mutual TLS.</summary>
    public string? ClientCertificatePath { get; set; }

    /// <summary>PEM private key of <see cref="ClientCertificatePath"/>; unset when the key is in that file.</summary>
    public string? ClientKeyPath { get; set; }

    /// <summary>Whether the address (or <see cref="Tls"/> for dns:///) asks for TLS.</summary>
    internal bool UsesTls => new Uri(Address).Scheme switch
    {
        "https" => true,
        "dns" => Tls,
        _ => false,
    };

    /// <summary>
    /// How often a <c>dns:///</c> name is resolved again to find new or gone pods;
    /// <see cref="Timeout.InfiniteTimeSpan"/> (-00:00:00.001) never. grpc-dotnet resolves a name at
    /// most once every 15 s, so a shorter interval acts as 15 s.
    /// </summary>
    public TimeSpan DnsRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Attempts of an idempotent call answered UNAVAILABLE, the first included (gRPC caps it at 5).</summary>
    public int MaxRetryAttempts { get; set; } = 4;

    public TimeSpan InitialRetryBackoff { get; set; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxRetryBackoff { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Largest response message accepted; the server's request limit is separate.</summary>
    public int MaxReceiveMessageSize { get; set; } = 16 * 1024 * 1024;

    internal void Validate()
    {
        if (!Uri.TryCreate(Address, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "dns"))
        {
            throw new InvalidOperationException($"gRPC client address '{Address}' must be http://host:port, https://host:port or dns:///host:port.");
        }

        if (DnsRefreshInterval <= TimeSpan.Zero && DnsRefreshInterval != Timeout.InfiniteTimeSpan)
        {
            throw new InvalidOperationException($"DnsRefreshInterval is {DnsRefreshInterval}; it must be positive, or -00:00:00.001 for never.");
        }

        if (!UsesTls && (CaCertificatePath ?? ClientCertificatePath ?? ClientKeyPath) is not null)
        {
            throw new InvalidOperationException(
                $"gRPC client address '{Address}' is plaintext, but CaCertificatePath, ClientCertificatePath or ClientKeyPath is set; use https:// (or Tls=true with dns:///).");
        }

        if (ClientKeyPath is not null && ClientCertificatePath is null)
        {
            throw new InvalidOperationException("ClientKeyPath is set without ClientCertificatePath; set both (or only ClientCertificatePath when the key is in that file).");
        }

        // Loaded once here so a missing or malformed file fails when the client is built or registered.
        ClientTls.Apply(new SslClientAuthenticationOptions(), this);

        if (MaxRetryAttempts is < 1 or > 5)
        {
            throw new InvalidOperationException($"MaxRetryAttempts is {MaxRetryAttempts}; it must be between 1 and 5.");
        }
    }
}
