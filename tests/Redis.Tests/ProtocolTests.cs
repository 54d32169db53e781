using System.Text;

namespace Microservices.Redis.Tests;

/// <summary>The RESP edge cases, each against a real redis-server.</summary>
public sealed class ProtocolTests(SharedRedisServer redis) : IClassFixture<SharedRedisServer>, IAsyncLifetime
{
    private IRedisClient _client = null!;

    public async Task InitializeAsync() => _client = await RedisClientFactory.ConnectAsync($"{redis.Server.Endpoint},syncTimeout=20000");

    public async Task DisposeAsync() => await _client.DisposeAsync();

    [Fact]
    public async Task Missing_key_is_a_nil_bulk_and_reads_as_null()
    {
        Assert.Null(await _client.GetAsync("protocol:missing"));
        var raw = await _client.ExecuteAsync("GET", ["protocol:missing"]);
        Assert.Equal(RedisReplyKind.Null, raw.Kind);
    }

    [Fact]
    public async Task Empty_string_is_empty_not_null()
    {
        await _client.SetAsync("protocol:empty", Array.Empty<byte>());

        var value = await _client.GetAsync("protocol:empty");

        Assert.NotNull(value);
        Assert.Empty(value);
        Assert.Equal(0, (await _client.ExecuteAsync("STRLEN", ["protocol:empty"])).Integer);
    }

    [Fact]
    public async Task Value_of_64_MiB_round_trips_byte_for_byte()
    {
        var value = new byte[(64 * 1024 * 1024) + 3];
        new Random(42).NextBytes(value);

        await _client.SetAsync("protocol:large", value);
        var readBack = await _client.GetAsync("protocol:large");
        var ping = await _client.ExecuteAsync("PING");

        Assert.Equal(value.Length, (await _client.ExecuteAsync("STRLEN", ["protocol:large"])).Integer);
        Assert.True(value.AsSpan().SequenceEqual(readBack), "64 MiB value differs after the round trip");
        Assert.Equal("PONG", ping.AsString());
        await _client.DeleteAsync(["protocol:large"]);
    }

    [Fact]
    public async Task Zero_bytes_and_CRLF_inside_keys_and_values_are_kept()
    {
        byte[] key = [(byte)'k', 0, (byte)'\r', (byte)'\n', 0, (byte)'z'];
        byte[] otherKey = [(byte)'k', 0];
        byte[] value = [0, 0, (byte)'\r', (byte)'\n', (byte)'$', (byte)'5', 0, 255];

        await _client.SetAsync(key, value);
        await _client.SetAsync(otherKey, "different"u8.ToArray());

        Assert.Equal(value, await _client.GetAsync(key));
        Assert.Equal("different"u8.ToArray(), await _client.GetAsync(otherKey));
        await _client.HashSetAsync("protocol:hash\0", [new(key, value)]);
        Assert.Equal(value, await _client.HashGetAsync("protocol:hash\0", key));
    }

    [Fact]
    public async Task Error_replies_throw_with_the_server_message_and_the_connection_stays_usable()
    {
        await _client.SetAsync("protocol:text", "abc"u8.ToArray());

        var notInteger = await Assert.ThrowsAsync<RedisServerException>(() => _client.IncrementAsync("protocol:text"));
        var wrongType = await Assert.ThrowsAsync<RedisServerException>(() => _client.HashGetAsync("protocol:text", "f"));
        var unknown = await Assert.ThrowsAsync<RedisServerException>(() => _client.ExecuteAsync("NOSUCHCOMMAND", ["x"]));

        Assert.Contains("not an integer", notInteger.Message, StringComparison.Ordinal);
        Assert.Equal("WRONGTYPE", wrongType.Prefix);
        Assert.Contains("unknown command", unknown.Message, StringComparison.Ordinal);
        Assert.Equal("abc"u8.ToArray(), await _client.GetAsync("protocol:text"));
    }

    [Fact]
    public async Task Nested_arrays_from_a_script_keep_their_shape()
    {
        var reply = await _client.EvalAsync("return {1, {2, {'three', {}}, false}, 'x', redis.error_reply('inner')}", []);

        var top = reply.Elements!;
        Assert.Equal(4, top.Count);
        Assert.Equal(1, top[0].Integer);
        var second = top[1].Elements!;
        Assert.Equal(2, second[0].Integer);
        Assert.Equal("three", second[1].Elements![0].AsString());
        Assert.Empty(second[1].Elements![1].Elements!);
        Assert.True(second[2].IsNull);
        Assert.Equal("x", top[2].AsString());
        Assert.True(top[3].IsError);
        Assert.EndsWith("inner", top[3].AsString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Integer_and_simple_string_replies_are_typed()
    {
        var pong = await _client.ExecuteAsync("PING");
        var echo = await _client.ExecuteAsync("ECHO", [Encoding.UTF8.GetBytes("héllo")]);
        var size = await _client.ExecuteAsync("DBSIZE");

        Assert.Equal(RedisReplyKind.SimpleString, pong.Kind);
        Assert.Equal("héllo", echo.AsString());
        Assert.Equal(RedisReplyKind.Integer, size.Kind);
    }
}
