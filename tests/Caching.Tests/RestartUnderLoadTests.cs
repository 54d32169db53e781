using Microservices.TestSupport;
using System.Diagnostics;
using System.Text;
using Microservices.Caching.Resilience;

namespace Microservices.Caching.Tests;

public sealed class RestartUnderLoadTests
{
    /// <summary>
    /// Two pods read and write 20 keys from 8 workers while redis-server is killed and started
    /// again. Whatever Redis does, the cache never throws, never answers with a value that was not
    /// the origin's or written for that key, and goes back to using Redis after the restart.
    /// </summary>
    [Fact]
    public async Task Redis_killed_and_restarted_under_load_gives_no_wrong_answer_and_the_cache_recovers()
    {
        await using var server = await RedisServer.StartAsync();
        await using var a = await Pod.StartAsync(server, prefix: "load", redisTimeout: TimeSpan.FromMilliseconds(300));
        await using var b = await Pod.StartAsync(server, prefix: "load", redisTimeout: TimeSpan.FromMilliseconds(300));
        var wrong = new List<string>();
        var errors = new List<Exception>();
        long calls = 0, callsAfterRestart = 0;
        var restarted = false;
        using var stop = new CancellationTokenSource();

        var workers = Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            var random = new Random(worker);
            for (var seq = 0; !stop.IsCancellationRequested; seq++)
            {
                var pod = random.Next(2) == 0 ? a : b;
                var key = $"k{random.Next(20)}";
                try
                {
                    if (random.Next(5) == 0)
                    {
                        await pod.Cache.SetAsync(key, B($"{key}:written:{worker}:{seq}"));
                    }
                    else if (await pod.Cache.GetOrCreateAsync(key, _ => Task.FromResult<byte[]?>(B($"{key}:origin"))) is var value
                        && !Encoding.UTF8.GetString(value!).StartsWith($"{key}:", StringComparison.Ordinal))
                    {
                        lock (wrong)
                        {
                            wrong.Add($"{key} answered {Encoding.UTF8.GetString(value!)}");
                        }
                    }

                    Interlocked.Increment(ref calls);
                    if (Volatile.Read(ref restarted))
                    {
                        Interlocked.Increment(ref callsAfterRestart);
                    }
                }
                catch (Exception e)
                {
                    lock (errors)
                    {
                        errors.Add(e);
                    }
                }
            }
        }));
        var all = Task.WhenAll(workers);

        await Task.Delay(500);
        Assert.True(Interlocked.Read(ref calls) > 100, "no load before the kill");
        await server.StopAsync();
        await Task.Delay(1000);
        Assert.False(a.Redis.IsConnected);
        await server.StartAgainAsync();
        Volatile.Write(ref restarted, true);
        var recovering = Stopwatch.StartNew();
        while ((Interlocked.Read(ref callsAfterRestart) < 500 || a.Cache.BreakerState != CircuitState.Closed || b.Cache.BreakerState != CircuitState.Closed)
            && recovering.Elapsed < TimeSpan.FromSeconds(15))
        {
            await Task.Delay(50);
        }

        await stop.CancelAsync();
        await all;

        Assert.Empty(errors);
        Assert.Empty(wrong);
        Assert.Equal(CircuitState.Closed, a.Cache.BreakerState);
        Assert.Equal(CircuitState.Closed, b.Cache.BreakerState);
        var fresh = $"fresh{Guid.NewGuid():N}";
        await a.Cache.GetOrCreateAsync(fresh, _ => Task.FromResult<byte[]?>(B("after the restart")));
        Assert.Equal(B("after the restart"), Stored.Payload(await b.Db.GetBytesAsync($"load:v1:{fresh}")));
    }

    private static byte[] B(string text) => Encoding.UTF8.GetBytes(text);
}
