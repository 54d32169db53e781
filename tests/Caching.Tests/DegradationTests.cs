using Microservices.TestSupport;
using System.Diagnostics;
using System.Text;
using Microservices.Caching.Resilience;

namespace Microservices.Caching.Tests;

public sealed class DegradationTests
{
    [Fact]
    public async Task With_Redis_dead_requests_are_served_from_the_origin_and_the_breaker_closes_when_it_returns()
    {
        await using var server = await RedisServer.StartAsync();
        await using var pod = await Pod.StartAsync(server, prefix: "degrade", redisTimeout: TimeSpan.FromMilliseconds(200), breakerOpen: TimeSpan.FromMilliseconds(300));
        using var metrics = new MetricsRecorder(pod.Cache.Metrics.Meter);
        Assert.Equal(B("warm"), await pod.Cache.GetOrCreateAsync("warm", _ => Task.FromResult<byte[]?>(B("warm"))));

        await server.StopAsync();
        var slowest = TimeSpan.Zero;
        var sawOpen = false;
        for (var i = 0; i < 40; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var value = await pod.Cache.GetOrCreateAsync($"k{i}", _ => Task.FromResult<byte[]?>(B($"origin{i}")));
            await pod.Cache.SetAsync($"written{i}", B("w"));
            var elapsed = Stopwatch.GetElapsedTime(started);
            Assert.Equal(B($"origin{i}"), value);
            slowest = elapsed > slowest ? elapsed : slowest;
            sawOpen |= pod.Cache.BreakerState == CircuitState.Open && metrics.Gauge("cache.breaker.state") == 2;
        }

        Assert.True(sawOpen, "the breaker never opened");
        Assert.True(slowest < TimeSpan.FromMilliseconds(1000), $"a request waited {slowest.TotalMilliseconds} ms on a dead Redis");
        Assert.True(metrics.Sum("cache.errors") > 0);
        Assert.Equal(B("warm"), await pod.Cache.GetAsync("warm"));

        await server.StartAgainAsync();
        var attempt = 0;
        await Eventually.TrueAsync(
            async () =>
            {
                var key = $"after{++attempt}";
                await pod.Cache.GetOrCreateAsync(key, _ => Task.FromResult<byte[]?>(B("recovered")));
                return pod.Cache.BreakerState == CircuitState.Closed && await pod.Db.GetBytesAsync($"degrade:v1:{key}") is not null;
            },
            "breaker closed and Redis used again",
            10_000);
        Assert.Equal(0, metrics.Gauge("cache.breaker.state"));
    }

    [Fact]
    public async Task With_Redis_slow_requests_are_served_within_the_time_budget()
    {
        await using var server = await RedisServer.StartAsync();
        await using var pod = await Pod.StartAsync(server, prefix: "slow", redisTimeout: TimeSpan.FromMilliseconds(150), breakerOpen: TimeSpan.FromMilliseconds(300));
        await using var admin = await Admin.ConnectAsync(server);

        await pod.Cache.GetOrCreateAsync("warm-up", _ => Task.FromResult<byte[]?>(B("x")));

        // Redis stalls for 3 s; each request may spend at most its 150 ms budget per Redis call.
        var sleep = admin.StallAsync(3);
        var attempt = 0;
        await Task.Delay(50);
        var timings = new List<TimeSpan>();
        for (var i = 0; i < 10; i++)
        {
            var started = Stopwatch.GetTimestamp();
            Assert.Equal(B("origin"), await pod.Cache.GetOrCreateAsync($"s{i}", _ => Task.FromResult<byte[]?>(B("origin"))));
            timings.Add(Stopwatch.GetElapsedTime(started));
        }

        Assert.All(timings, t => Assert.True(t < TimeSpan.FromMilliseconds(1000), $"request took {t.TotalMilliseconds} ms; all: {string.Join(", ", timings.Select(x => (int)x.TotalMilliseconds))}"));
        Assert.Equal(CircuitState.Open, pod.Cache.BreakerState);
        await sleep;
        await Eventually.TrueAsync(
            async () =>
            {
                await pod.Cache.GetOrCreateAsync($"later{++attempt}", _ => Task.FromResult<byte[]?>(B("x")));
                return pod.Cache.BreakerState == CircuitState.Closed;
            },
            "breaker closed after Redis woke up");
    }

    [Fact]
    public async Task Hits_and_misses_are_metrics_by_level()
    {
        await using var server = await RedisServer.StartAsync();
        await using var a = await Pod.StartAsync(server, prefix: "metrics");
        await using var b = await Pod.StartAsync(server, prefix: "metrics");
        using var metrics = new MetricsRecorder(b.Cache.Metrics.Meter);
        await Eventually.SubscribersAsync(a.Redis, "metrics:v1:__invalidate", 2);

        await b.Cache.GetOrCreateAsync("k", _ => Task.FromResult<byte[]?>(B("v")));
        await b.Cache.GetOrCreateAsync("k", _ => Task.FromResult<byte[]?>(B("v")));
        await a.Cache.SetAsync("other", B("x"));
        await Eventually.TrueAsync(() => Task.FromResult(metrics.Sum("cache.invalidations") == 1), "B applied A's invalidation");
        await b.Cache.GetAsync("other");
        await b.Cache.GetAsync("nothing");

        Assert.True(2 == metrics.Sum("cache.misses"), metrics.Dump());
        Assert.Equal(1, metrics.Sum("cache.hits", "l1"));
        Assert.Equal(1, metrics.Sum("cache.hits", "l2"));
        Assert.Equal(0, metrics.Sum("cache.errors"));
        Assert.Equal(0, metrics.Gauge("cache.breaker.state"));
        Assert.Equal(2, metrics.Gauge("cache.l1.entries"));
    }

    private static byte[] B(string text) => Encoding.UTF8.GetBytes(text);
}
