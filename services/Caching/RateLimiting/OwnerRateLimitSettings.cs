namespace Microservices.Caching.RateLimiting;

/// <summary>Bound from configuration section "RateLimits".</summary>
public sealed class OwnerRateLimitSettings
{
    public const string SectionName = "RateLimits";

    /// <summary>Per method, keyed "Service.Method" (e.g. ExportService.StartExport; see GrpcMethodNames).</summary>
    public Dictionary<string, MethodRateLimit> Methods { get; set; } = [];

    /// <summary>While Redis is unreachable: true lets calls through (logged once a minute); false refuses them with UNAVAILABLE.</summary>
    public bool FailOpen { get; set; } = true;

    /// <summary>The most a call waits for Redis to answer before Redis counts as unreachable.</summary>
    public TimeSpan RedisTimeout { get; set; } = TimeSpan.FromSeconds(1);
}
