namespace Microservices.Caching;

public static class CachingTelemetry
{
    /// <summary>Meter of the cache's hits, misses, errors, breaker state and L1 size: <c>AddMeter(CachingTelemetry.MeterName)</c>.</summary>
    public const string MeterName = Telemetry.CacheMetrics.MeterName;
}
