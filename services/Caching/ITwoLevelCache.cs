namespace Microservices.Caching;

/// <summary>Per-entry lifetimes; null fields take the cache defaults.</summary>
public sealed record CacheEntryOptions(TimeSpan? Expiry = null, TimeSpan? LocalExpiry = null);

/// <summary>
/// A cache with an in-process level (L1) in front of Redis (L2). Every call degrades instead of
/// failing: with Redis down, slow or unconfigured, values come from L1 and the origin. Keys are
/// scoped by the service's versioned prefix. Returned arrays are copies the caller may keep.
/// </summary>
public interface ITwoLevelCache
{
    /// <summary>The versioned prefix all keys of this cache live under, e.g. "registry:v1:".</summary>
    string KeyPrefix { get; }

    Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Returns the cached value or loads it once (single-flight) with <paramref name="factory"/>,
    /// then stores it in both levels. A null from the factory is returned and not cached.
    /// </summary>
    Task<byte[]?> GetOrCreateAsync(string key, Func<CancellationToken, Task<byte[]?>> factory, CacheEntryOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// <see cref="GetOrCreateAsync(string, Func{CancellationToken, Task{byte[]}}, CacheEntryOptions?, CancellationToken)"/>,
    /// returning the value decoded by <paramref name="decode"/>. An L1 hit returns the object decoded
    /// the first time, shared by every caller until the key is written or invalidated: T must be
    /// immutable, and <paramref name="decode"/> must neither keep nor change the bytes it is given.
    /// </summary>
    ValueTask<T?> GetOrCreateAsync<T>(string key, Func<CancellationToken, Task<byte[]?>> factory, Func<byte[], T> decode, CacheEntryOptions? options = null, CancellationToken cancellationToken = default)
        where T : class;

    /// <summary>Stores the value and evicts the key from every replica's L1.</summary>
    Task SetAsync(string key, byte[] value, CacheEntryOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Removes the key from Redis and from every replica's L1.</summary>
    Task RemoveAsync(string key, CancellationToken cancellationToken = default);
}
