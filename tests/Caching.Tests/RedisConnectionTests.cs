using Microservices.TestSupport;
using System.Diagnostics;
using System.Text;
using Microservices.Caching.Connection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Microservices.Caching.Tests;

/// <summary>The multiplexer settings the cache tier chooses, and what they buy a host.</summary>
public sealed class RedisConnectionTests
{
    [Fact]
    public void A_cache_connection_fails_fast_and_never_aborts_whatever_the_string_says()
    {
        var options = RedisConnection.Options("cache.internal:6380,abortConnect=true");

        Assert.False(options.AbortOnConnectFail);
        Assert.Same(BacklogPolicy.FailFast, options.BacklogPolicy);
        Assert.Equal(2000, options.ConnectTimeout);
        Assert.Equal(2000, options.SyncTimeout);
        Assert.Equal(2000, options.AsyncTimeout);
    }

    [Fact]
    public void Timeouts_TLS_and_ACL_settings_in_the_connection_string_are_kept()
    {
        var options = RedisConnection.Options("cache.internal:6380,ssl=true,sslHost=redis.example,user=alice,password=p@ss,defaultDatabase=3,connectTimeout=5000,syncTimeout=300,asyncTimeout=400,name=blob");

        var endpoint = Assert.IsType<System.Net.DnsEndPoint>(Assert.Single(options.EndPoints));
        Assert.Equal(("cache.internal", 6380), (endpoint.Host, endpoint.Port));
        Assert.True(options.Ssl);
        Assert.Equal("redis.example", options.SslHost);
        Assert.Equal("alice", options.User);
        Assert.Equal("p@ss", options.Password);
        Assert.Equal(3, options.DefaultDatabase);
        Assert.Equal(5000, options.ConnectTimeout);
        Assert.Equal(300, options.SyncTimeout);
        Assert.Equal(400, options.AsyncTimeout);
        Assert.Equal("blob", options.ClientName);
    }

    [Fact]
    public async Task A_host_starts_with_Redis_down_serves_from_the_origin_and_uses_Redis_once_it_is_up()
    {
        await using var server = await RedisServer.StartAsync();
        await server.StopAsync();
        await using var services = Host(server.Endpoint);

        var started = Stopwatch.GetTimestamp();
        var cache = services.GetRequiredService<ITwoLevelCache>();
        Assert.Equal(B("origin"), await cache.GetOrCreateAsync("k", _ => Task.FromResult<byte[]?>(B("origin"))));
        await cache.SetAsync("written", B("while down"));

        // Loose on purpose (a shared 2-core machine measured 4 s once under load 29; 0.1 s when quiet):
        // what matters is that neither start-up nor the calls wait for a Redis that is not there.
        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(8), $"start-up and first calls took {Stopwatch.GetElapsedTime(started).TotalMilliseconds} ms with Redis down");

        await server.StartAgainAsync();
        await using var admin = await Admin.ConnectAsync(server);
        var attempt = 0;
        await Eventually.TrueAsync(
            async () =>
            {
                await cache.SetAsync($"after{++attempt}", B("v"));
                return await admin.GetDatabase().GetBytesAsync($"export:v1:after{attempt}") is not null;
            },
            "the cache writes Redis once it is up",
            15_000);

        // The invalidation subscription made while Redis was down took effect when it came up.
        await Eventually.SubscribersAsync(admin, "export:v1:__invalidate", 1);
    }

    [Fact]
    public async Task An_ACL_user_in_the_connection_string_is_used_for_every_connection()
    {
        await using var server = await RedisServer.StartAsync("--user", "alice", "on", ">alicepw", "~export:*", "&export:*", "+@all", "--user", "default", "off");
        await using var services = Host($"{server.Endpoint},user=alice,password=alicepw");
        var redis = services.GetRequiredService<IConnectionMultiplexer>();
        await services.GetRequiredService<ITwoLevelCache>().SetAsync("k", B("v"));

        Assert.Equal("alice", (string?)await redis.GetDatabase().ExecuteAsync("ACL", "WHOAMI"));
        Assert.Equal(B("v"), Stored.Payload(await redis.GetDatabase().GetBytesAsync("export:v1:k")));
        await Eventually.SubscribersAsync(redis, "export:v1:__invalidate", 1);
    }

    private static ServiceProvider Host(string connectionString) =>
        new ServiceCollection()
            .AddTwoLevelCache(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Redis:ConnectionString"] = connectionString }).Build(), "export")
            .BuildServiceProvider();

    private static byte[] B(string text) => Encoding.UTF8.GetBytes(text);
}
