using System.Text;

namespace Microservices.Redis.Tests;

public sealed class CommandTests(SharedRedisServer redis) : IClassFixture<SharedRedisServer>, IAsyncLifetime
{
    private IRedisClient _client = null!;

    public async Task InitializeAsync() => _client = await RedisClientFactory.ConnectAsync(redis.Server.Endpoint);

    public async Task DisposeAsync() => await _client.DisposeAsync();

    [Fact]
    public async Task Set_honours_NX_XX_EX_and_PX()
    {
        Assert.False(await _client.SetAsync("cmd:set", B("a"), condition: SetCondition.IfExists));
        Assert.True(await _client.SetAsync("cmd:set", B("a"), TimeSpan.FromSeconds(100), SetCondition.IfNotExists));
        Assert.False(await _client.SetAsync("cmd:set", B("b"), condition: SetCondition.IfNotExists));
        Assert.Equal(B("a"), await _client.GetAsync("cmd:set"));
        Assert.InRange(await _client.TimeToLiveAsync("cmd:set"), 95, 100);

        Assert.True(await _client.SetAsync("cmd:set", B("c"), TimeSpan.FromMilliseconds(150), SetCondition.IfExists));
        Assert.InRange((await _client.ExecuteAsync("PTTL", ["cmd:set"])).Integer, 1, 150);
        await Task.Delay(400);
        Assert.Null(await _client.GetAsync("cmd:set"));
    }

    [Fact]
    public async Task Expire_pexpire_and_ttl()
    {
        await _client.SetAsync("cmd:ttl", B("v"));
        Assert.Equal(-1, await _client.TimeToLiveAsync("cmd:ttl"));
        Assert.Equal(-2, await _client.TimeToLiveAsync("cmd:ttl:missing"));

        Assert.True(await _client.ExpireAsync("cmd:ttl", TimeSpan.FromSeconds(50)));
        Assert.InRange(await _client.TimeToLiveAsync("cmd:ttl"), 45, 50);
        Assert.True(await _client.ExpireAsync("cmd:ttl", TimeSpan.FromMilliseconds(2500)));
        Assert.InRange((await _client.ExecuteAsync("PTTL", ["cmd:ttl"])).Integer, 2000, 2500);
        Assert.False(await _client.ExpireAsync("cmd:ttl:missing", TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task Del_unlink_mget_mset_incrby()
    {
        await _client.SetManyAsync([new("cmd:m1", B("1")), new("cmd:m2", B("")), new("cmd:m3", B("3"))]);
        var values = await _client.GetManyAsync(["cmd:m1", "cmd:m2", "cmd:nope", "cmd:m3"]);
        Assert.Equal([B("1"), B(""), null, B("3")], values);

        Assert.Equal(2, await _client.DeleteAsync(["cmd:m1", "cmd:m2", "cmd:nope"]));
        Assert.Equal(1, await _client.UnlinkAsync(["cmd:m3", "cmd:nope"]));
        Assert.Equal(5, await _client.IncrementAsync("cmd:counter", 5));
        Assert.Equal(-2, await _client.IncrementAsync("cmd:counter", -7));
    }

    [Fact]
    public async Task Hash_commands()
    {
        Assert.Equal(2, await _client.HashSetAsync("cmd:h", [new("a", B("1")), new("b", B("2"))]));
        Assert.Equal(0, await _client.HashSetAsync("cmd:h", [new("a", B("one"))]));
        Assert.Equal(B("one"), await _client.HashGetAsync("cmd:h", "a"));
        Assert.Null(await _client.HashGetAsync("cmd:h", "zzz"));

        var all = (await _client.HashGetAllAsync("cmd:h")).ToDictionary(p => Encoding.UTF8.GetString(p.Key), p => Encoding.UTF8.GetString(p.Value));
        Assert.Equal(new Dictionary<string, string> { ["a"] = "one", ["b"] = "2" }, all);
        Assert.Equal(1, await _client.HashDeleteAsync("cmd:h", ["a", "zzz"]));
        Assert.Empty(await _client.HashGetAllAsync("cmd:missing-hash"));
    }

    [Fact]
    public async Task Eval_uses_evalsha_and_reloads_after_NOSCRIPT()
    {
        const string script = "return redis.call('INCRBY', KEYS[1], ARGV[1])";
        Assert.Equal(3, (await _client.EvalAsync(script, ["cmd:eval"], [3])).Integer);

        await _client.ExecuteAsync("SCRIPT", ["FLUSH"]);
        Assert.Equal(7, (await _client.EvalAsync(script, ["cmd:eval"], [4])).Integer);

        // After the fallback the script is cached again: EVALSHA alone succeeds.
        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(Encoding.UTF8.GetBytes(script)));
        Assert.Equal(8, (await _client.ExecuteAsync("EVALSHA", [sha, 1, "cmd:eval", 1])).Integer);
        await Assert.ThrowsAsync<RedisServerException>(() => _client.EvalAsync("return redis.call('NOPE')", []));
    }

    [Fact]
    public async Task Ping_and_scan()
    {
        Assert.True(await _client.PingAsync() < TimeSpan.FromSeconds(1));
        var expected = Enumerable.Range(0, 600).Select(i => $"cmd:scan:{i}").ToHashSet();
        await _client.SetManyAsync([.. expected.Select(k => new KeyValuePair<RedisKey, ReadOnlyMemory<byte>>(k, B("x")))]);

        var seen = new HashSet<string>();
        await foreach (var key in _client.ScanAsync("cmd:scan:*", pageSize: 50))
        {
            seen.Add(Encoding.UTF8.GetString(key));
        }

        Assert.Equal(expected, seen);
    }

    [Fact]
    public async Task Publish_subscribe_and_pattern_subscribe()
    {
        var plain = new TaskCompletionSource<RedisMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        var matched = new TaskCompletionSource<RedisMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = await _client.SubscribeAsync("cmd:chan", m => plain.TrySetResult(m));
        await using var patternSubscription = await _client.PatternSubscribeAsync("cmd:pat:*", m => matched.TrySetResult(m));
        await WaitUntilAsync(async () => (await _client.ExecuteAsync("PUBSUB", ["NUMSUB", "cmd:chan"])).Elements![1].Integer == 1);

        Assert.Equal(1, await _client.PublishAsync("cmd:chan", new byte[] { 0, 1, 2 }));
        Assert.Equal(1, await _client.PublishAsync("cmd:pat:42", B("hi")));

        var message = await plain.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(("cmd:chan", (string?)null), (message.Channel, message.Pattern));
        Assert.Equal(new byte[] { 0, 1, 2 }, message.Payload);
        var patternMessage = await matched.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(("cmd:pat:42", "cmd:pat:*"), (patternMessage.Channel, patternMessage.Pattern));

        await subscription.DisposeAsync();
        Assert.Equal(0, await _client.PublishAsync("cmd:chan", B("gone")));
    }

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition, int timeoutMs = 5000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Condition not met in time.");
            }

            await Task.Delay(20);
        }
    }

    private static byte[] B(string text) => Encoding.UTF8.GetBytes(text);
}
