namespace Microservices.Caching;

public sealed class TwoLevelCacheOptions
{
    /// <summary>The owning service, e.g. "registry"; first part of every key.</summary>
    public required string ServicePrefix { get; init; }

    /// <summary>Bump when the cached format changes: old entries are simply never read again and expire.</summary>
    public int Version { get; init; } = 1;

    public long L1MaxBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Default lifetime in Redis.</summary>
    public TimeSpan DefaultExpiry { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Default lifetime in L1. Short, because it bounds staleness when an invalidation is lost
    /// (Redis down during a write, subscriber reconnecting).
    /// </summary>
    public TimeSpan DefaultLocalExpiry { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest a request waits for Redis before serving from the origin instead.</summary>
    public TimeSpan RedisTimeout { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How long Redis remembers that a key was written (its fence). A load that started before a
    /// write may not fill Redis after it; a load slower than half this never fills Redis at all.
    /// </summary>
    public TimeSpan FenceLifetime { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How often a write's invalidation that could not reach Redis is tried again.</summary>
    public TimeSpan InvalidationRetryInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Failed invalidations tracked key by key; beyond this, every entry of the prefix is flushed
    /// from Redis (and every L1 cleared) once Redis answers again.
    /// </summary>
    public int MaxPendingInvalidations { get; init; } = 10_000;

    public int BreakerFailureThreshold { get; init; } = 5;

    public TimeSpan BreakerOpenDuration { get; init; } = TimeSpan.FromSeconds(5);

    public string KeyPrefix => $"{ServicePrefix}:v{Version}:";
}
