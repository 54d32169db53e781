namespace Microservices.Caching;

/// <summary>
/// The keys the cache tier itself keeps under a service's prefix. They all start with
/// <see cref="Reserved"/>, which callers' cache keys may not, so no cache entry can collide with a
/// fence, a lock or a rate-limit window, and a flush of cache entries can leave them alone.
/// </summary>
internal static class CacheKeyspace
{
    public const string Reserved = "__";

    public const string InvalidationChannel = Reserved + "invalidate";

    public static string Fence(string key) => Reserved + "fence:" + key;

    /// <summary>Changes whenever every entry of the prefix is flushed; a load that saw an older one may not fill.</summary>
    public const string FlushToken = Reserved + "flush";

    public static string Lock(string resource) => Reserved + "lock:" + resource;

    public static string RateLimit(string key) => Reserved + "ratelimit:" + key;

    public static bool IsReserved(string key) => key.StartsWith(Reserved, StringComparison.Ordinal);
}
