using Microservices.TestSupport;
using System.Text;
using Microservices.Caching.Coordination;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Microservices.Caching.Tests;

public sealed class RegistrationTests
{
    [Fact]
    public async Task Without_Redis_configured_everything_runs_in_process()
    {
        await using var services = Build(new Dictionary<string, string?> { ["Cache:Version"] = "4" });

        Assert.Null(services.GetService<IConnectionMultiplexer>());
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
        await using var services = Build(new Dictionary<string, string?> { ["Redis:ConnectionString"] = server.Endpoint });
        var redis = services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();

        await services.GetRequiredService<ITwoLevelCache>().SetAsync("k", Encoding.UTF8.GetBytes("v"));
        await using var held = await services.GetRequiredService<ILeaseLockProvider>().TryAcquireAsync("job", TimeSpan.FromSeconds(5));
        await services.GetRequiredService<IFixedWindowRateLimiter>().TryAcquireAsync("u", 5, TimeSpan.FromMinutes(1));

        Assert.Equal("v", Encoding.UTF8.GetString(Stored.Payload(await redis.GetBytesAsync("export:v1:k"))!));
        Assert.Equal(held!.Token, (string?)await redis.StringGetAsync("export:v1:__lock:job"));
        Assert.Equal(1, await redis.StringIncrementAsync("export:v1:__ratelimit:u", 0));
    }

    [Fact]
    public void Invalid_tuning_values_fail_at_startup_naming_the_key()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Build(new Dictionary<string, string?> { ["Cache:RedisTimeout"] = "soon" }));
        Assert.Contains("Cache:RedisTimeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Several_caches_and_a_host_share_one_multiplexer()
    {
        await using var server = await RedisServer.StartAsync();
        var configuration = Configuration(new Dictionary<string, string?> { ["Redis:ConnectionString"] = server.Endpoint });
        var collection = new ServiceCollection().AddTwoLevelCache(configuration, "export").AddTwoLevelCache(configuration, "blob");
        await using var services = collection.BuildServiceProvider();

        Assert.Single(collection, d => d.ServiceType == typeof(IConnectionMultiplexer));
        Assert.Single(collection, d => d.ImplementationType?.Name == "RedisConnectionWarmup");
        Assert.Same(services.GetRequiredService<IConnectionMultiplexer>(), services.GetRequiredService<IConnectionMultiplexer>());

        // A host that registered its own multiplexer first (even without Redis:ConnectionString) keeps it, and the cache uses it.
        await using var own = await ConnectionMultiplexer.ConnectAsync(server.Endpoint);
        await using var host = new ServiceCollection()
            .AddSingleton<IConnectionMultiplexer>(own)
            .AddTwoLevelCache(Configuration([]), "registry")
            .BuildServiceProvider();
        Assert.Same(own, host.GetRequiredService<IConnectionMultiplexer>());
        await host.GetRequiredService<ITwoLevelCache>().SetAsync("k", Encoding.UTF8.GetBytes("via the host's multiplexer"));
        Assert.NotNull(await own.GetDatabase().GetBytesAsync("registry:v1:k"));
    }

    [Fact]
    public void A_malformed_connection_string_fails_at_startup_naming_the_option()
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => Build(new Dictionary<string, string?> { ["Redis:ConnectionString"] = "127.0.0.1:6379,bogus=1" }));
        Assert.Contains("bogus", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings) =>
        new ServiceCollection().AddTwoLevelCache(Configuration(settings), "export").BuildServiceProvider();

    private static IConfiguration Configuration(Dictionary<string, string?> settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
}
