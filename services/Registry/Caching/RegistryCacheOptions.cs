namespace Microservices.Registry.Caching;

/// <summary>Configuration section Registry:Cache (the shared tier itself is configured under Cache and Redis).</summary>
internal sealed class RegistryCacheOptions
{
    public const string Section = "Registry:Cache";

    /// <summary>
    /// Registry:Cache:Mode — "auto" (default), "on" or "off". auto: on when Redis is configured
    /// (invalidations reach every instance); without Redis, on for SQLite (one instance owns the
    /// file) and off for PostgreSQL (the store for several replicas, which could not tell each
    /// other about writes). Set "off" when several instances share one SQLite file without Redis.
    /// </summary>
    public string Mode { get; set; } = "auto";

    /// <summary>Registry:Cache:Expiry — lifetime of an entry in Redis (L1 keeps Cache:DefaultLocalExpiry at most).</summary>
    public TimeSpan Expiry { get; set; } = TimeSpan.FromMinutes(5);
}
