namespace Microservices.Redis.Tests;

public sealed class TimeoutAndCancellationTests(SharedRedisServer redis) : IClassFixture<SharedRedisServer>
{
    [Fact]
    public async Task A_timed_out_command_reply_is_not_handed_to_the_next_caller()
    {
        await using var client = await RedisClientFactory.ConnectAsync($"{redis.Server.Endpoint},syncTimeout=200");
        await client.SetAsync("timeout:k", "value"u8.ToArray());

        var sleep = client.ExecuteAsync("DEBUG", ["SLEEP", "0.6"]);
        var blockedGet = client.GetAsync("timeout:k");
        await Assert.ThrowsAsync<RedisTimeoutException>(() => sleep);
        await Assert.ThrowsAsync<RedisTimeoutException>(() => blockedGet);
        await Task.Delay(700);

        // The late "+OK" of DEBUG SLEEP and the late GET reply are discarded, not delivered here.
        Assert.Equal("value"u8.ToArray(), await client.GetAsync("timeout:k"));
        Assert.Equal(1, await client.IncrementAsync("timeout:n"));
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task Cancelling_a_waiting_command_frees_the_caller_and_keeps_order()
    {
        await using var client = await RedisClientFactory.ConnectAsync(redis.Server.Endpoint);
        await client.SetAsync("cancel:k", "v"u8.ToArray());
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        var started = DateTime.UtcNow;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.ExecuteAsync("DEBUG", ["SLEEP", "0.5"], cts.Token));

        Assert.True(DateTime.UtcNow - started < TimeSpan.FromMilliseconds(450), "cancellation waited for the reply");
        Assert.Equal("v"u8.ToArray(), await client.GetAsync("cancel:k"));
    }

    [Fact]
    public async Task A_command_cancelled_before_it_is_sent_never_runs()
    {
        await using var client = await RedisClientFactory.ConnectAsync(redis.Server.Endpoint);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.IncrementAsync("cancel:never", 1, cancelled.Token));

        Assert.Null(await client.GetAsync("cancel:never"));
    }
}
