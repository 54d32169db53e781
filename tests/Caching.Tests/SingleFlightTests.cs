using Microservices.Caching.L1;

namespace Microservices.Caching.Tests;

public sealed class SingleFlightTests
{
    [Fact]
    public async Task Concurrent_callers_share_one_load()
    {
        var flights = new SingleFlight<byte[]?>();
        var loads = 0;
        var gate = new TaskCompletionSource();

        var callers = Enumerable.Range(0, 100).Select(_ => Task.Run(() => flights.RunAsync("k", async _ =>
        {
            Interlocked.Increment(ref loads);
            await gate.Task;
            return new byte[] { 7 };
        }, CancellationToken.None))).ToArray();
        await Task.Delay(100);
        gate.SetResult();
        var results = await Task.WhenAll(callers);

        Assert.Equal(1, loads);
        Assert.All(results, r => Assert.Equal(new byte[] { 7 }, r));
        Assert.Equal(0, flights.InFlight);
    }

    [Fact]
    public async Task A_failed_load_reaches_every_waiter_and_the_next_call_retries()
    {
        var flights = new SingleFlight<byte[]?>();
        var gate = new TaskCompletionSource();
        var failing = Enumerable.Range(0, 5).Select(_ => flights.RunAsync("k", async _ =>
        {
            await gate.Task;
            throw new InvalidOperationException("origin down");
        }, CancellationToken.None)).ToArray();
        gate.SetResult();

        foreach (var call in failing)
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => call);
        }

        Assert.Equal(new byte[] { 1 }, await flights.RunAsync("k", _ => Task.FromResult<byte[]?>([1]), CancellationToken.None));
    }

    [Fact]
    public async Task One_caller_cancelling_leaves_the_load_running_for_the_others_but_all_cancelling_stops_it()
    {
        var flights = new SingleFlight<byte[]?>();
        var loadToken = new TaskCompletionSource<CancellationToken>();
        var gate = new TaskCompletionSource();
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();
        Func<CancellationToken, Task<byte[]?>> load = async ct =>
        {
            loadToken.TrySetResult(ct);
            await gate.Task.WaitAsync(ct);
            return [9];
        };

        var a = flights.RunAsync("k", load, first.Token);
        var b = flights.RunAsync("k", load, second.Token);
        var token = await loadToken.Task;
        await first.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a);
        Assert.False(token.IsCancellationRequested);

        await second.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b);
        Assert.True(token.IsCancellationRequested);
    }
}
