namespace Microservices.Redis.Tests;

public sealed class AuthTests
{
    [Fact]
    public async Task Password_authentication_and_a_clear_error_for_a_wrong_one()
    {
        await using var server = await RedisServer.StartAsync("--requirepass", "s3cret");

        await using var client = await RedisClientFactory.ConnectAsync($"{server.Endpoint},password=s3cret");
        Assert.Equal("PONG", (await client.ExecuteAsync("PING")).AsString());

        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisClientFactory.ConnectAsync($"{server.Endpoint},password=wrong"));
        Assert.Contains("authentication failed", error.Message, StringComparison.Ordinal);
        Assert.Contains("WRONGPASS", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Acl_user_authentication()
    {
        await using var server = await RedisServer.StartAsync("--user", "alice", "on", ">alicepw", "~app:*", "&*", "+@all");

        await using var client = await RedisClientFactory.ConnectAsync($"{server.Endpoint},user=alice,password=alicepw");

        Assert.Equal("alice", (await client.ExecuteAsync("ACL", ["WHOAMI"])).AsString());
        Assert.True(await client.SetAsync("app:x", "1"u8.ToArray()));
        var denied = await Assert.ThrowsAsync<RedisServerException>(() => client.SetAsync("other:x", "1"u8.ToArray()));
        Assert.Equal("NOPERM", denied.Prefix);
    }

    [Fact]
    public async Task Default_database_is_selected()
    {
        await using var server = await RedisServer.StartAsync();
        await using var client = await RedisClientFactory.ConnectAsync($"{server.Endpoint},defaultDatabase=3");

        Assert.Contains(" db=3 ", (await client.ExecuteAsync("CLIENT", ["INFO"])).AsString(), StringComparison.Ordinal);
    }
}
