using System.Text.Json.Serialization;

namespace Microservices.Caching.Tests;

public sealed record CachedModel(string Id, string Alias, int Version);

[JsonSerializable(typeof(CachedModel))]
internal sealed partial class CachingTestJsonContext : JsonSerializerContext;

public sealed class JsonExtensionsTests
{
    [Fact]
    public async Task Typed_values_round_trip_through_the_byte_cache()
    {
        await using var cache = new TwoLevelCache(new TwoLevelCacheOptions { ServicePrefix = "json" }, redis: null);
        var loads = 0;

        async Task<CachedModel?> Load(CancellationToken ct)
        {
            Interlocked.Increment(ref loads);
            await Task.Yield();
            return new CachedModel("hf:org/model", "small", 3);
        }

        var first = await cache.GetOrCreateJsonAsync("m", Load, CachingTestJsonContext.Default.CachedModel);
        var second = await cache.GetOrCreateJsonAsync("m", Load, CachingTestJsonContext.Default.CachedModel);
        await cache.SetJsonAsync("m", new CachedModel("hf:org/model", "renamed", 4), CachingTestJsonContext.Default.CachedModel);
        var third = await cache.GetOrCreateJsonAsync("m", Load, CachingTestJsonContext.Default.CachedModel);

        Assert.Equal(new CachedModel("hf:org/model", "small", 3), first);
        Assert.Equal(first, second);
        Assert.Equal(1, loads);
        Assert.Equal("renamed", third!.Alias);
    }
}
