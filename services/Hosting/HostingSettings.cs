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
}
