using System.Text;

namespace Microservices.Redis.Tests;

/// <summary>protocol=resp3: HELLO 3 on the interactive connection, RESP3 types mapped to RESP2 shapes.</summary>
public sealed class Resp3Tests(SharedRedisServer redis) : IClassFixture<SharedRedisServer>, IAsyncLifetime
{
    private IRedisClient _client = null!;

    public async Task InitializeAsync() => _client = await RedisClientFactory.ConnectAsync($"{redis.Server.Endpoint},protocol=resp3,name=resp3-client");

    public async Task DisposeAsync() => await _client.DisposeAsync();

    [Fact]
    public async Task Negotiates_resp3_and_keeps_the_typed_commands_working()
    {
        var info = (await _client.ExecuteAsync("CLIENT", ["INFO"])).AsString()!;
        Assert.Matches(@"\bresp=3\b", info);
        Assert.Contains("name=resp3-client", info, StringComparison.Ordinal);

        Assert.Null(await _client.GetAsync("resp3:missing"));
        await _client.SetAsync("resp3:k", new byte[] { 0, 1, 2 });
        Assert.Equal(new byte[] { 0, 1, 2 }, await _client.GetAsync("resp3:k"));
        await _client.HashSetAsync("resp3:h", [new("f", "v"u8.ToArray())]);
        var all = Assert.Single(await _client.HashGetAllAsync("resp3:h"));
        Assert.Equal(("f", "v"), (Encoding.UTF8.GetString(all.Key), Encoding.UTF8.GetString(all.Value)));
        await Assert.ThrowsAsync<RedisServerException>(() => _client.IncrementAsync("resp3:h"));
    }

    [Fact]
    public async Task Maps_sets_doubles_booleans_and_nulls_are_mapped()
    {
        var reply = await _client.EvalAsync(
            "redis.setresp(3); return {{map={a=1}}, {double=3.5}, true, false, {big_number='123456789012345678901234567890'}}",
            []);

        var e = reply.Elements!;
        Assert.Equal(["a", "1"], e[0].Elements!.Select(x => x.AsString()));
        Assert.Equal("3.5", e[1].AsString());
        Assert.Equal(1, e[2].Integer);
        Assert.Equal(0, e[3].Integer);
        Assert.Equal("123456789012345678901234567890", e[4].AsString());
        var pong = await _client.ExecuteAsync("PING");
        Assert.Equal("PONG", pong.AsString());
    }

    [Fact]
    public async Task Pub_sub_still_works_when_the_interactive_connection_speaks_resp3()
    {
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = await _client.SubscribeAsync("resp3:chan", m => received.TrySetResult(Encoding.UTF8.GetString(m.Payload)));
        await CommandTests.WaitUntilAsync(async () => (await _client.ExecuteAsync("PUBSUB", ["NUMSUB", "resp3:chan"])).Elements![1].Integer == 1);

        await _client.PublishAsync("resp3:chan", "hi"u8.ToArray());

        Assert.Equal("hi", await received.Task.WaitAsync(TimeSpan.FromSeconds(5)));
    }
}
