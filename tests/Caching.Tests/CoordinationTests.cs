using Microservices.TestSupport;
using Microservices.Caching.Coordination;
using Microservices.Caching.Connection;
using StackExchange.Redis;

namespace Microservices.Caching.Tests;

public sealed class CoordinationTests(SharedRedisServer redis) : IClassFixture<SharedRedisServer>, IAsyncLifetime
{
    private ConnectionMultiplexer _holderA = null!;
    private ConnectionMultiplexer _holderB = null!;

    public static TheoryData<string> Backends => ["redis", "in-process"];

    public async Task InitializeAsync()
    {
        // Two processes: each its own multiplexer, configured as production configures it.
        _holderA = await ConnectionMultiplexer.ConnectAsync(RedisConnection.Options(redis.Server.Endpoint));
        _holderB = await ConnectionMultiplexer.ConnectAsync(RedisConnection.Options(redis.Server.Endpoint));
    }

    public async Task DisposeAsync()
    {
        await _holderA.DisposeAsync();
        await _holderB.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task Two_holders_contend_and_only_one_holds_the_lock(string backend)
    {
        var (a, b) = Locks(backend);
        var resource = $"export:user-1:{backend}:{Guid.NewGuid():N}";

        var first = await a.TryAcquireAsync(resource, TimeSpan.FromSeconds(10));
        var second = await b.TryAcquireAsync(resource, TimeSpan.FromSeconds(10));

        Assert.NotNull(first);
        Assert.Null(second);
        Assert.True(await first.ReleaseAsync());
        await using var third = await b.TryAcquireAsync(resource, TimeSpan.FromSeconds(10));
        Assert.NotNull(third);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task A_holder_whose_lease_expired_cannot_release_or_extend_the_new_holders_lock(string backend)
    {
        var (a, b) = Locks(backend);
        var resource = $"export:user-2:{backend}:{Guid.NewGuid():N}";
        var stale = await a.TryAcquireAsync(resource, TimeSpan.FromMilliseconds(200));
        Assert.NotNull(stale);
        await Task.Delay(400);

        await using var current = await b.TryAcquireAsync(resource, TimeSpan.FromSeconds(10));
        Assert.NotNull(current);

        Assert.False(await stale.ReleaseAsync());
        Assert.False(await stale.ExtendAsync(TimeSpan.FromSeconds(30)));
        Assert.Null(await a.TryAcquireAsync(resource, TimeSpan.FromSeconds(10)));
        Assert.True(await current.ExtendAsync(TimeSpan.FromSeconds(20)));
        if (backend == "redis")
        {
            Assert.Equal(current.Token, (string?)await _holderA.GetDatabase().StringGetAsync($"svc:v1:__lock:{resource}"));
            Assert.InRange((await _holderA.GetDatabase().KeyTimeToLiveAsync($"svc:v1:__lock:{resource}"))!.Value.TotalSeconds, 15, 20);
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task Extending_keeps_the_lease_past_its_original_expiry(string backend)
    {
        var (a, b) = Locks(backend);
        var resource = $"export:user-3:{backend}:{Guid.NewGuid():N}";
        await using var held = await a.TryAcquireAsync(resource, TimeSpan.FromMilliseconds(300));
        Assert.NotNull(held);

        Assert.True(await held.ExtendAsync(TimeSpan.FromSeconds(5)));
        await Task.Delay(500);

        Assert.Null(await b.TryAcquireAsync(resource, TimeSpan.FromSeconds(1)));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task Fixed_window_rate_limit_is_shared_and_resets(string backend)
    {
        var (a, b) = Limiters(backend);
        var key = $"user-9:{backend}:{Guid.NewGuid():N}";

        var decisions = new List<RateLimitDecision>();
        for (var i = 0; i < 3; i++)
        {
            decisions.Add(await (i % 2 == 0 ? a : b).TryAcquireAsync(key, limit: 3, TimeSpan.FromMilliseconds(700)));
        }

        var denied = await a.TryAcquireAsync(key, limit: 3, TimeSpan.FromMilliseconds(700));

        Assert.All(decisions, d => Assert.True(d.Allowed));
        Assert.Equal([1L, 2L, 3L], decisions.Select(d => d.Count));
        Assert.False(denied.Allowed);
        Assert.InRange(denied.RetryAfter, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(700));
        await Task.Delay(denied.RetryAfter + TimeSpan.FromMilliseconds(100));
        Assert.True((await b.TryAcquireAsync(key, limit: 3, TimeSpan.FromMilliseconds(700))).Allowed);
    }

    [Fact]
    public async Task Lock_reports_unavailable_when_Redis_is_down_instead_of_granting_it()
    {
        await using var server = await RedisServer.StartAsync();
        await using var client = await ConnectionMultiplexer.ConnectAsync(RedisConnection.Options($"{server.Endpoint},connectTimeout=200,syncTimeout=500"));
        var locks = new RedisLeaseLockProvider(client, "svc:v1:");
        await server.StopAsync();
        await Eventually.TrueAsync(() => Task.FromResult(!client.IsConnected), "client notices the outage");

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => locks.TryAcquireAsync("r", TimeSpan.FromSeconds(1)));

        // FailFast: the refusal comes at once, not after a command timeout spent queueing for a reconnect.
        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) < TimeSpan.FromMilliseconds(400));
    }

    [Fact]
    public async Task Rate_limits_fall_back_to_per_process_windows_while_Redis_is_down()
    {
        await using var server = await RedisServer.StartAsync();
        await using var client = await ConnectionMultiplexer.ConnectAsync(RedisConnection.Options($"{server.Endpoint},connectTimeout=200"));
        var limiter = new RedisFixedWindowRateLimiter(client, "svc:v1:", new InProcessFixedWindowRateLimiter(TimeProvider.System));
        await server.StopAsync();
        await Eventually.TrueAsync(() => Task.FromResult(!client.IsConnected), "client notices the outage");

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        Assert.True((await limiter.TryAcquireAsync("u", 1, TimeSpan.FromMinutes(1))).Allowed);
        Assert.False((await limiter.TryAcquireAsync("u", 1, TimeSpan.FromMinutes(1))).Allowed);
        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) < TimeSpan.FromMilliseconds(400));
    }

    private (ILeaseLockProvider A, ILeaseLockProvider B) Locks(string backend)
    {
        if (backend == "redis")
        {
            return (new RedisLeaseLockProvider(_holderA, "svc:v1:"), new RedisLeaseLockProvider(_holderB, "svc:v1:"));
        }

        var shared = new InProcessLeaseLockProvider(TimeProvider.System);
        return (shared, shared);
    }

    private (IFixedWindowRateLimiter A, IFixedWindowRateLimiter B) Limiters(string backend)
    {
        var local = new InProcessFixedWindowRateLimiter(TimeProvider.System);
        if (backend == "redis")
        {
            return (
                new RedisFixedWindowRateLimiter(_holderA, "svc:v1:", new InProcessFixedWindowRateLimiter(TimeProvider.System)),
                new RedisFixedWindowRateLimiter(_holderB, "svc:v1:", new InProcessFixedWindowRateLimiter(TimeProvider.System)));
        }

        return (local, local);
    }
}
