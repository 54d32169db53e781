using Google.Protobuf;
using Grpc.Core;
using Microservices.Clients.Tests.Support;
using Microservices.Testing.V1;

namespace Microservices.Clients.Tests;

/// <summary>A client stream guarded by <see cref="StallGuard"/>, against a real host.</summary>
public sealed class StallGuardTests
{
    private static readonly StreamingInputCallRequest Chunk = new() { Payload = new Payload { Body = ByteString.CopyFrom(new byte[1024]) } };

    [Fact]
    public async Task A_stream_the_server_leaves_waiting_ends_after_the_limit_as_deadline_exceeded()
    {
        await using var host = await TestHost.StartAsync();
        using var channel = GrpcChannels.Create(host.Url);
        using var stall = new StallGuard(TimeSpan.FromMilliseconds(500), CancellationToken.None);
        using var call = new TestService.TestServiceClient(channel).StreamingInputCall(cancellationToken: stall.Token);

        // The server answers only when the stream completes; it never does.
        await call.RequestStream.WriteAsync(Chunk, stall.Token);
        stall.Progressed();
        var ended = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(TimeSpan.FromSeconds(60)));

        Assert.Equal(StatusCode.Cancelled, ended.StatusCode);
        Assert.True(stall.Stalled);
        var reported = stall.Error("StreamingInputCall");
        Assert.Equal(StatusCode.DeadlineExceeded, reported.StatusCode);
        Assert.Equal("StreamingInputCall made no progress for 0.5 s", reported.Status.Detail);
    }

    [Fact]
    public async Task A_stream_that_keeps_progressing_outlives_the_limit()
    {
        await using var host = await TestHost.StartAsync();
        using var channel = GrpcChannels.Create(host.Url);
        var limit = TimeSpan.FromSeconds(3);
        using var stall = new StallGuard(limit, CancellationToken.None);
        using var call = new TestService.TestServiceClient(channel).StreamingInputCall(cancellationToken: stall.Token);

        var started = DateTime.UtcNow;
        var sent = 0;
        while (DateTime.UtcNow - started < limit * 2)
        {
            await call.RequestStream.WriteAsync(Chunk, stall.Token);
            stall.Progressed();
            sent++;
            await Task.Delay(100);
        }

        await call.RequestStream.CompleteAsync();
        Assert.Equal(sent * 1024, (await call.ResponseAsync).AggregatedPayloadSize);
        Assert.False(stall.Stalled);
    }

    [Fact]
    public async Task The_callers_own_cancellation_is_not_a_stall()
    {
        await using var host = await TestHost.StartAsync();
        using var channel = GrpcChannels.Create(host.Url);
        using var caller = new CancellationTokenSource();
        using var stall = new StallGuard(TimeSpan.FromMinutes(5), caller.Token);
        using var call = new TestService.TestServiceClient(channel).StreamingInputCall(cancellationToken: stall.Token);

        await call.RequestStream.WriteAsync(Chunk, stall.Token);
        await caller.CancelAsync();

        var ended = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(StatusCode.Cancelled, ended.StatusCode);
        Assert.True(stall.Token.IsCancellationRequested);
        Assert.False(stall.Stalled);
    }

    [Fact]
    public async Task The_wait_set_by_the_last_progress_is_the_one_that_ends_the_call_and_is_reported()
    {
        using var stall = new StallGuard(TimeSpan.FromMinutes(5), CancellationToken.None);
        stall.Progressed(TimeSpan.FromMilliseconds(200));

        await Task.Delay(Timeout.Infinite, stall.Token).ContinueWith(static _ => { }, TaskScheduler.Default).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(stall.Stalled);
        Assert.Equal("Upload made no progress for 0.2 s", stall.Error("Upload").Status.Detail);
    }

    [Fact]
    public void A_limit_that_is_not_positive_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new StallGuard(TimeSpan.Zero, CancellationToken.None));
}
