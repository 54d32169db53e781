using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Microservices.Caching;

/// <summary>Typed access over the byte-level cache with System.Text.Json source-generated metadata.</summary>
public static class TwoLevelCacheJsonExtensions
{
    public static async Task<T?> GetOrCreateJsonAsync<T>(
        this ITwoLevelCache cache,
        string key,
        Func<CancellationToken, Task<T?>> factory,
        JsonTypeInfo<T> typeInfo,
        CacheEntryOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var bytes = await cache.GetOrCreateAsync(
            key,
            async ct => await factory(ct).ConfigureAwait(false) is { } value ? JsonSerializer.SerializeToUtf8Bytes(value, typeInfo) : null,
            options,
            cancellationToken).ConfigureAwait(false);
        return bytes is null ? default : JsonSerializer.Deserialize(bytes, typeInfo);
    }

    public static Task SetJsonAsync<T>(this ITwoLevelCache cache, string key, T value, JsonTypeInfo<T> typeInfo, CacheEntryOptions? options = null, CancellationToken cancellationToken = default) =>
        cache.SetAsync(key, JsonSerializer.SerializeToUtf8Bytes(value, typeInfo), options, cancellationToken);
}
