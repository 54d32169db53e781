using System.Diagnostics;
using System.Text;

namespace Microservices.Redis.Tests;

public sealed class ResilienceTests
{
    [Fact]
    public async Task Redis_killed_and_restarted_under_load_gives_no_wrong_answer_and_recovers()
    {
        await using var server = await RedisServer.StartAsync();
        await using var client = await RedisClientFactory.ConnectAsync($"{server.Endpoint},syncTimeout=500,connectTimeout=500");
        var disconnects = 0;
        client.ConnectionStateChanged += (_, e) =>
        {
            if (e.Role == RedisConnectionRole.Interactive && !e.IsConnected)
            {
                Interlocked.Increment(ref disconnects);
            }
        };
        var wrong = new List<string>();
        long ok = 0, failed = 0, okAfterRestart = 0;
        var restarted = false;
        using var stop = new CancellationTokenSource();

        var workers = Enumerable.Range(0, 16).Select(worker => Task.Run(async () =>
        {
            for (var seq = 0; !stop.IsCancellationRequested; seq++)
            {
                var value = Encoding.UTF8.GetBytes($"w{worker}:{seq}");
                try
                {
                    await client.SetAsync($"load:{worker}", value);
                    var readBack = await client.GetAsync($"load:{worker}");

                    // Null only if the restart (no persistence) happened between SET and GET.
                    if (readBack is not null && !readBack.AsSpan().SequenceEqual(value))
                    {
                        lock (wrong)
                        {
                            wrong.Add($"expected w{worker}:{seq}, got {Encoding.UTF8.GetString(readBack)}");
                        }
                    }

                    Interlocked.Increment(ref ok);
                    if (Volatile.Read(ref restarted))
                    {
                        Interlocked.Increment(ref okAfterRestart);
                    }
                }
                catch (RedisException)
                {
                    Interlocked.Increment(ref failed);
                    await Task.Delay(10);
                }
            }
        }));
        var all = Task.WhenAll(workers);

        await Task.Delay(700);
        Assert.True(Interlocked.Read(ref ok) > 100, "no load before the kill");
        await server.StopAsync();
        await Task.Delay(1000);
        Assert.False(client.IsConnected);
        await server.StartAgainAsync();
        Volatile.Write(ref restarted, true);
        var recovering = Stopwatch.StartNew();
        while (Interlocked.Read(ref okAfterRestart) < 200 && recovering.Elapsed < TimeSpan.FromSeconds(15))
        {
            await Task.Delay(50);
        }

        await stop.CancelAsync();
        await all;

        Assert.Empty(wrong);
        Assert.True(Volatile.Read(ref disconnects) >= 1, "the client never saw the outage");
        Assert.True(Interlocked.Read(ref failed) > 0, "no command failed during a 1 s outage with a 500 ms timeout");
        Assert.True(Interlocked.Read(ref okAfterRestart) >= 200, $"client did not recover within 15 s (ok after restart: {okAfterRestart})");
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task After_the_server_drops_the_connection_the_client_reconnects_into_the_same_database()
    {
        await using var server = await RedisServer.StartAsync();
        await using var client = await RedisClientFactory.ConnectAsync($"{server.Endpoint},defaultDatabase=2,name=resilience");
        await using var admin = await RedisClientFactory.ConnectAsync(server.Endpoint);
        await client.SetAsync("db2:key", "in-db-2"u8.ToArray());
        var firstId = (await client.ExecuteAsync("CLIENT", ["ID"])).Integer;

        await admin.ExecuteAsync("CLIENT", ["KILL", "ID", firstId]);
        var value = await RetryAsync(() => client.GetAsync("db2:key"));

        Assert.Equal("in-db-2"u8.ToArray(), value);
        Assert.NotEqual(firstId, (await client.ExecuteAsync("CLIENT", ["ID"])).Integer);
        Assert.Contains("name=resilience", (await client.ExecuteAsync("CLIENT", ["INFO"])).AsString(), StringComparison.Ordinal);
        Assert.Null(await admin.GetAsync("db2:key"));
    }

    [Fact]
    public async Task Subscriptions_come_back_after_a_server_restart()
    {
        await using var server = await RedisServer.StartAsync();
        await using var client = await RedisClientFactory.ConnectAsync($"{server.Endpoint},connectTimeout=500");
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = await client.SubscribeAsync("events", m => received.TrySetResult(Encoding.UTF8.GetString(m.Payload)));

        await server.StopAsync();
        await server.StartAgainAsync();
        await CommandTests.WaitUntilAsync(
            async () =>
            {
                try
                {
                    return (await client.ExecuteAsync("PUBSUB", ["NUMSUB", "events"])).Elements![1].Integer == 1;
                }
                catch (RedisException)
                {
                    return false;
                }
            },
            timeoutMs: 10_000);
        await client.PublishAsync("events", "after-restart"u8.ToArray());

        Assert.Equal("after-restart", await received.Task.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task With_abortConnect_false_a_client_created_while_redis_is_down_connects_when_it_starts()
    {
        await using var server = await RedisServer.StartAsync();
        await server.StopAsync();
        await using var client = await RedisClientFactory.ConnectAsync($"{server.Endpoint},abortConnect=false,connectTimeout=300");
        Assert.False(client.IsConnected);
        await Assert.ThrowsAsync<RedisConnectionException>(() => RedisClientFactory.ConnectAsync($"{server.Endpoint},connectTimeout=300"));

        await server.StartAgainAsync();

        Assert.Equal("PONG", (await RetryAsync(() => client.ExecuteAsync("PING"))).AsString());
    }

    private static async Task<T> RetryAsync<T>(Func<Task<T>> action)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                return await action();
            }
            catch (RedisException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }
}
