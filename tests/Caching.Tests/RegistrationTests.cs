using System.Text;
using Microservices.Caching.Coordination;
using Microservices.Redis;
using Microservices.Redis.Tests;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Microservices.Caching.Tests;

public sealed class RegistrationTests
{
    [Fact]
    public async Task Without_Redis_configured_everything_runs_in_process()
    {
        await using var services = Build(new Dictionary<string, string?> { ["Cache:Version"] = "4" });

        Assert.Null(services.GetService<IRedisClient>());
        var cache = services.GetRequiredService<ITwoLevelCache>();
        var loads = 0;
        var callers = Enumerable.Range(0, 20).Select(_ => cache.GetOrCreateAsync("k", async ct =>
        {
            Interlocked.Increment(ref loads);
            await Task.Delay(50, ct);
            return Encoding.UTF8.GetBytes("v");
        }));
        await Task.WhenAll(callers);
        await cache.SetAsync("k", Encoding.UTF8.GetBytes("v2"));
        Assert.Equal("v2", Encoding.UTF8.GetString((await cache.GetAsync("k"))!));
        await cache.RemoveAsync("k");

        Assert.Equal(1, loads);
        Assert.Null(await cache.GetAsync("k"));
        Assert.Equal("export:v4:", cache.KeyPrefix);
        var locks = services.GetRequiredService<ILeaseLockProvider>();
        await using var held = await locks.TryAcquireAsync("job", TimeSpan.FromSeconds(5));
        Assert.NotNull(held);
        Assert.Null(await locks.TryAcquireAsync("job", TimeSpan.FromSeconds(5)));
        var limiter = services.GetRequiredService<IFixedWindowRateLimiter>();
        Assert.True((await limiter.TryAcquireAsync("u", 1, TimeSpan.FromMinutes(1))).Allowed);
        Assert.False((await limiter.TryAcquireAsync("u", 1, TimeSpan.FromMinutes(1))).Allowed);
    }

    [Fact]
    public async Task With_Redis_configured_the_cache_lock_and_limiter_share_it()
    {
        await using var server = await RedisServer.StartAsync();
        await using var services = Build(new Dictionary<string, string?> { ["Redis:ConnectionString"] = $"{server.Endpoint},abortConnect=false" });
        var redis = services.GetRequiredService<IRedisClient>();
        await Eventually.TrueAsync(() => Task.FromResult(redis.IsConnected), "client connected");

        await services.GetRequiredService<ITwoLevelCache>().SetAsync("k", Encoding.UTF8.GetBytes("v"));
        await using var held = await services.GetRequiredService<ILeaseLockProvider>().TryAcquireAsync("job", TimeSpan.FromSeconds(5));
        await services.GetRequiredService<IFixedWindowRateLimiter>().TryAcquireAsync("u", 5, TimeSpan.FromMinutes(1));

        Assert.Equal("v", Encoding.UTF8.GetString(Stored.Payload(await redis.GetAsync("export:v1:k"))!));
        Assert.Equal(held!.Token, Encoding.UTF8.GetString((await redis.GetAsync("export:v1:__lock:job"))!));
        Assert.Equal(1, await redis.IncrementAsync("export:v1:__ratelimit:u", 0));
    }

    [Fact]
    public void Invalid_tuning_values_fail_at_startup_naming_the_key()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Build(new Dictionary<string, string?> { ["Cache:RedisTimeout"] = "soon" }));
        Assert.Contains("Cache:RedisTimeout", error.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection().AddTwoLevelCache(configuration, "export").BuildServiceProvider();
    }
}
