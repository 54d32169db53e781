using Microservices.Hosting.Kestrel;

namespace Microservices.Hosting;

/// <summary>Host settings bound from configuration section "Hosting".</summary>
internal sealed class HostingSettings
{
    public const string SectionName = "Hosting";

    /// <summary>
    /// How long the host waits for in-flight calls (and hosted services) to finish on shutdown
    /// before aborting them. Kubernetes' default grace period is 30 s, so stay below it.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>
    /// How long the host keeps serving after health turned NOT_SERVING at the start of shutdown,
    /// so load balancers and clients that watch health move away before the listener closes.
    /// </summary>
    public TimeSpan ShutdownDelay { get; set; } = TimeSpan.Zero;

    /// <summary>TLS on every endpoint the host listens on (gRPC and any other, such as the blob gateway).</summary>
    public TlsSettings Tls { get; set; } = new();

    /// <summary>
    /// Lets the host listen without TLS on an address other than loopback. Off: such a host refuses
    /// to start, so an unencrypted port is never opened by accident.
    /// </summary>
    public bool AllowPlaintext { get; set; }

    /// <summary>
    /// A second, plaintext port on every address that serves grpc.health.v1.Health and nothing
    /// else, for probes that cannot speak TLS (Kubernetes' native gRPC probes). Unset: none.
    /// </summary>
    public int? HealthPort { get; set; }
}
