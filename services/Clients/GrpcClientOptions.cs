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

        if (MaxRetryAttempts is < 1 or > 5)
        {
            throw new InvalidOperationException($"MaxRetryAttempts is {MaxRetryAttempts}; it must be between 1 and 5.");
        }
    }
}
