using Grpc.Core;
using Microservices.Clients.Tests.Support;
using Microservices.Testing.V1;
using Microservices.TestSupport;

namespace Microservices.Clients.Tests;

/// <summary>
/// The service config GrpcChannels builds from the contracts' <c>idempotency_level</c>: in the
/// test contract EmptyCall is IDEMPOTENT, StreamingOutputCall NO_SIDE_EFFECTS, UnaryCall neither.
/// Attempts are counted by the server.
/// </summary>
public sealed class RetryTests
{
    [Fact]
    public async Task Idempotent_calls_are_retried_on_unavailable_until_they_succeed()
    {
        await using var host = await TestHost.StartAsync();
        using var channel = GrpcChannels.Create(FastRetry(host.Url));
        host.Log.FailNext(2);

        await new TestService.TestServiceClient(channel).EmptyCallAsync(new Empty());

        Assert.Equal(3, host.Log.Count("EmptyCall"));
    }

    [Fact]
    public async Task Calls_without_side_effects_are_retried_too()
    {
        await using var host = await TestHost.StartAsync();
        using var channel = GrpcChannels.Create(FastRetry(host.Url));
        host.Log.FailNext(1);

        using var call = new TestService.TestServiceClient(channel).StreamingOutputCall(
            new StreamingOutputCallRequest { ResponseParameters = { new ResponseParameters { Size = 7 } } });
        var responses = await call.ResponseStream.ReadAllAsync().ToListAsync();

        Assert.Equal(7, Assert.Single(responses).Payload.Body.Length);
        Assert.Equal(2, host.Log.Count("StreamingOutputCall"));
    }

    [Fact]
    public async Task Calls_not_marked_idempotent_are_not_retried()
    {
        await using var host = await TestHost.StartAsync();
        using var channel = GrpcChannels.Create(FastRetry(host.Url));
        host.Log.FailNext(1);

        var error = await Assert.ThrowsAsync<RpcException>(
            () => new TestService.TestServiceClient(channel).UnaryCallAsync(new SimpleRequest()).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal(1, host.Log.Count("UnaryCall"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    public async Task Attempts_are_capped_by_MaxRetryAttempts(int maxAttempts)
    {
        await using var host = await TestHost.StartAsync();
        var options = FastRetry(host.Url);
        options.MaxRetryAttempts = maxAttempts;
        using var channel = GrpcChannels.Create(options);
        host.Log.FailNext(int.MaxValue);

        var error = await Assert.ThrowsAsync<RpcException>(
            () => new TestService.TestServiceClient(channel).EmptyCallAsync(new Empty()).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal(maxAttempts, host.Log.Count("EmptyCall"));
    }

    [Fact]
    public async Task Retry_throttling_stops_retries_while_most_calls_fail_and_lifts_after_successes()
    {
        await using var host = await TestHost.StartAsync();
        var options = FastRetry(host.Url);
        options.MaxRetryAttempts = 5;
        using var channel = GrpcChannels.Create(options);
        var client = new TestService.TestServiceClient(channel);
        host.Log.FailNext(int.MaxValue);

        for (var i = 0; i < 10; i++)
        {
            await Assert.ThrowsAsync<RpcException>(() => client.EmptyCallAsync(new Empty()).ResponseAsync);
        }

        // gRFC A6 with 10 tokens, ratio 0.1: every failed attempt costs a token and retries stop
        // once 5 or fewer are left. The first call spends 5 attempts (10 -> 5 tokens); the other
        // nine get one attempt each. Without throttling: 10 x 5 = 50.
        Assert.Equal(5 + 9, host.Log.Count("EmptyCall"));

        // Each success returns 0.1 token: 80 of them refill 8, so one failure (8 -> 7) is retried again.
        host.Log.FailNext(0);
        for (var i = 0; i < 80; i++)
        {
            await client.EmptyCallAsync(new Empty());
        }

        host.Log.Clear();
        host.Log.FailNext(1);
        await client.EmptyCallAsync(new Empty());
        Assert.Equal(2, host.Log.Count("EmptyCall"));
    }

    [Fact]
    public async Task Connection_refused_is_unavailable()
    {
        using var channel = GrpcChannels.Create(FastRetry($"http://127.0.0.1:{FreePort.Next()}"));

        var error = await Assert.ThrowsAsync<RpcException>(
            () => new TestService.TestServiceClient(channel).EmptyCallAsync(new Empty()).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }

    [Fact]
    public void The_retried_methods_are_exactly_those_the_contracts_mark()
    {
        var retried = IdempotentRetryPolicy.IdempotentMethods(Contracts.All).Select(m => m.FullName).ToHashSet();

        Assert.Contains("microservices.testing.v1.TestService.EmptyCall", retried);
        Assert.Contains("microservices.testing.v1.TestService.StreamingOutputCall", retried);
        Assert.DoesNotContain("microservices.testing.v1.TestService.UnaryCall", retried);
        Assert.Contains("microservices.blob.v1.BlobService.FindMissing", retried);
        Assert.DoesNotContain("microservices.blob.v1.BlobService.BatchUpload", retried);
    }

    private static GrpcClientOptions FastRetry(string address) => new()
    {
        Address = address,
        InitialRetryBackoff = TimeSpan.FromMilliseconds(10),
        MaxRetryBackoff = TimeSpan.FromMilliseconds(50),
    };
}
