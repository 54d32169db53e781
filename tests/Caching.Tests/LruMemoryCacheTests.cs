using Microservices.Caching.L1;

namespace Microservices.Caching.Tests;

public sealed class LruMemoryCacheTests
{
    private readonly ManualTimeProvider _time = new();

    [Fact]
    public void Evicts_the_least_recently_used_entries_to_stay_within_the_byte_budget()
    {
        var cache = new LruMemoryCache(maxBytes: 3 * (1000 + 96 + 2), _time);
        cache.Set("a", new byte[1000], TimeSpan.FromMinutes(1));
        cache.Set("b", new byte[1000], TimeSpan.FromMinutes(1));
        cache.Set("c", new byte[1000], TimeSpan.FromMinutes(1));
        Assert.True(cache.TryGet("a", out _));

        cache.Set("d", new byte[1000], TimeSpan.FromMinutes(1));

        Assert.False(cache.TryGet("b", out _));
        Assert.True(cache.TryGet("a", out _));
        Assert.True(cache.TryGet("c", out _));
        Assert.True(cache.TryGet("d", out _));
        Assert.True(cache.Bytes <= 3 * (1000 + 96 + 2));
    }

    [Fact]
    public void A_value_larger_than_the_budget_is_not_kept_and_replaces_nothing_stale()
    {
        var cache = new LruMemoryCache(maxBytes: 500, _time);
        cache.Set("k", new byte[10], TimeSpan.FromMinutes(1));

        cache.Set("k", new byte[1000], TimeSpan.FromMinutes(1));

        Assert.False(cache.TryGet("k", out _));
        Assert.Equal(0, cache.Bytes);
    }

    [Fact]
    public void Entries_expire()
    {
        var cache = new LruMemoryCache(maxBytes: 10_000, _time);
        cache.Set("k", [1, 2, 3], TimeSpan.FromSeconds(10));

        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.True(cache.TryGet("k", out var value));
        Assert.Equal(new byte[] { 1, 2, 3 }, value);
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(cache.TryGet("k", out _));
        Assert.Equal(0, cache.Count);
    }
}
