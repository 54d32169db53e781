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
}
