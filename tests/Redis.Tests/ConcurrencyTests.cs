namespace Microservices.Redis.Tests;

/// <summary>Many callers share one connection; every reply must reach the caller that asked.</summary>
public sealed class ConcurrencyTests(SharedRedisServer redis) : IClassFixture<SharedRedisServer>
{
    [Fact]
    public async Task Concurrent_callers_on_one_connection_never_get_each_others_replies()
    {
        await using var client = await RedisClientFactory.ConnectAsync($"{redis.Server.Endpoint},syncTimeout=30000");
        var clientsBefore = await ConnectedClientsAsync(client);
        var wrong = 0;

        var callers = Enumerable.Range(0, 64).Select(caller => Task.Run(async () =>
        {
            var random = new Random(caller);
            for (var i = 0; i < 300; i++)
            {
                var key = $"conc:{caller}:{i % 7}";

                // Mixed sizes make replies straddle socket reads and pipe segments.
                var value = new byte[i % 50 == 0 ? 200_000 : random.Next(0, 300)];
                random.NextBytes(value);
                if (value.Length >= 8)
                {
                    System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(value, caller);
                    System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(value.AsSpan(4), i);
                }

                await client.SetAsync(key, value);
                var readBack = await client.GetAsync(key);
                var counter = await client.IncrementAsync($"conc:counter:{caller}");
                if (readBack is null || !readBack.AsSpan().SequenceEqual(value) || counter != i + 1)
                {
                    Interlocked.Increment(ref wrong);
                }
            }
        }));
        await Task.WhenAll(callers);

        Assert.Equal(0, wrong);
        Assert.Equal(clientsBefore, await ConnectedClientsAsync(client));
    }

    [Fact]
    public async Task Ten_thousand_commands_issued_without_awaiting_complete_in_order()
    {
        await using var client = await RedisClientFactory.ConnectAsync(redis.Server.Endpoint);

        var increments = Enumerable.Range(0, 10_000).Select(_ => client.IncrementAsync("conc:pipelined")).ToArray();
        var results = await Task.WhenAll(increments);

        Assert.Equal(Enumerable.Range(1, 10_000).Select(i => (long)i), results);
    }

    private static async Task<long> ConnectedClientsAsync(IRedisClient client)
    {
        var info = (await client.ExecuteAsync("INFO", ["clients"])).AsString()!;
        var line = info.Split("\r\n").Single(l => l.StartsWith("connected_clients:", StringComparison.Ordinal));
        return long.Parse(line.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
