using Grpc.Core;
using Microservices.Testing.V1;
using Microservices.TestSupport;

namespace Microservices.Clients.Tests.Support;

/// <summary>A call the server holds open (its one response comes only after a wait), to end from the client side.</summary>
internal static class WaitingCall
{
    public static AsyncServerStreamingCall<StreamingOutputCallResponse> Start(
        TestService.TestServiceClient client,
        TimeSpan wait,
        DateTime? deadline = null,
        CancellationToken cancellationToken = default) =>
        client.StreamingOutputCall(
            new StreamingOutputCallRequest { ResponseParameters = { new ResponseParameters { Size = 1, IntervalUs = (int)(wait.Ticks / TimeSpan.TicksPerMicrosecond) } } },
            deadline: deadline,
            cancellationToken: cancellationToken);

    /// <summary>
    /// Cancels a waiting call once <paramref name="handler"/> holds it; the caller must see
    /// CANCELLED and that host's handler its cancellation token fire.
    /// </summary>
    public static async Task CancelOnceHeldAsync(TestService.TestServiceClient client, TestHost handler)
    {
        using var cancel = new CancellationTokenSource();
        using var call = Start(client, TimeSpan.FromMinutes(10), cancellationToken: cancel.Token);
        await Eventually.HoldsAsync(() => handler.Log.Count("StreamingOutputCall") == 1, "the call reached the handler");
        await cancel.CancelAsync();

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        await handler.Log.HandlerCancelled.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }
}
