using System.Net.Http;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microservices.Clients.Tests.Support;
using Microservices.Testing.V1;
using Microservices.TestSupport;

namespace Microservices.Clients.Tests;

/// <summary>What callers rely on from a channel built by GrpcChannels, against a real host.</summary>
public sealed class CallBehaviourTests
{
    [Fact]
    public async Task A_deadline_that_passes_while_the_server_works_is_deadline_exceeded_on_both_sides()
    {
        await using var host = await TestHost.StartAsync();
        using var channel = GrpcChannels.Create(host.Url);

        using var call = WaitingCall.Start(
            new TestService.TestServiceClient(channel), TimeSpan.FromMinutes(1), deadline: DateTime.UtcNow.AddMilliseconds(300));

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        await host.Log.HandlerCancelled.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_deadline_already_past_fails_without_sending()
    {
        await using var host = await TestHost.StartAsync();
        using var channel = GrpcChannels.Create(host.Url);

        var error = await Assert.ThrowsAsync<RpcException>(() => new TestService.TestServiceClient(channel)
            .UnaryCallAsync(new SimpleRequest(), deadline: DateTime.UtcNow.AddSeconds(-1)).ResponseAsync);

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Empty(host.Log.Calls);
    }

    [Fact]
    public async Task Cancelling_a_call_cancels_it_on_both_sides()
    {
        await using var host = await TestHost.StartAsync();
        using var channel = GrpcChannels.Create(host.Url);

        await WaitingCall.CancelOnceHeldAsync(new TestService.TestServiceClient(channel), host);
    }

    [Fact]
    public async Task Request_metadata_arrives_and_response_headers_and_trailers_come_back()
    {
        await using var host = await TestHost.StartAsync();
        using var channel = GrpcChannels.Create(host.Url);
        byte[] trailing = [0xab, 0xab, 0xab];
        var headers = new Metadata
        {
            { "x-request-id", "r-1" },
            { RecordingService.EchoInitial, "test_initial_metadata_value" },
            { RecordingService.EchoTrailing, trailing },
        };

        using var call = new TestService.TestServiceClient(channel).UnaryCallAsync(new SimpleRequest { ResponseSize = 3 }, headers);
        Assert.Equal(3, (await call.ResponseAsync).Payload.Body.Length);

        Assert.Equal("r-1", Assert.Single(host.Log.Calls).Headers.GetValue("x-request-id"));
        Assert.Equal("test_initial_metadata_value", (await call.ResponseHeadersAsync).GetValue(RecordingService.EchoInitial));
        Assert.Equal(trailing, call.GetTrailers().GetValueBytes(RecordingService.EchoTrailing));
    }

    [Fact]
    public async Task A_server_error_reaches_the_caller_with_its_code_message_and_trailers()
    {
        await using var host = await TestHost.StartAsync();
        using var channel = GrpcChannels.Create(host.Url);
        byte[] trailing = [1, 2, 3];

        var error = await Assert.ThrowsAsync<RpcException>(() => new TestService.TestServiceClient(channel).UnaryCallAsync(
            new SimpleRequest { ResponseStatus = new EchoStatus { Code = (int)StatusCode.FailedPrecondition, Message = "The export is still running." } },
            new Metadata { { RecordingService.EchoTrailing, trailing } }).ResponseAsync);

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Equal("The export is still running.", error.Status.Detail);
        Assert.Equal(trailing, error.Trailers.GetValueBytes(RecordingService.EchoTrailing));
    }

    [Fact]
    public async Task Client_interceptors_add_metadata_and_see_the_final_status()
    {
        await using var host = await TestHost.StartAsync();
        using var channel = GrpcChannels.Create(host.Url);
        var interceptor = new RequestIdInterceptor();
        var client = new TestService.TestServiceClient(channel.Intercept(interceptor));

        await client.EmptyCallAsync(new Empty());
        await Assert.ThrowsAsync<RpcException>(() => client.UnaryCallAsync(
            new SimpleRequest { ResponseStatus = new EchoStatus { Code = (int)StatusCode.PermissionDenied, Message = "no" } }).ResponseAsync);

        Assert.Equal(["EmptyCall OK", "UnaryCall PermissionDenied"], interceptor.Completed);
        Assert.All(host.Log.Calls, call => Assert.False(string.IsNullOrEmpty(call.Headers.GetValue("x-request-id"))));
    }

    [Fact]
    public async Task A_response_over_the_clients_limit_is_resource_exhausted()
    {
        await using var host = await TestHost.StartAsync();
        using var channel = GrpcChannels.Create(new GrpcClientOptions { Address = host.Url, MaxReceiveMessageSize = 1000 });
        var client = new TestService.TestServiceClient(channel);

        var error = await Assert.ThrowsAsync<RpcException>(() => client.UnaryCallAsync(new SimpleRequest { ResponseSize = 5000 }).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal(10, (await client.UnaryCallAsync(new SimpleRequest { ResponseSize = 10 })).Payload.Body.Length);
    }

    [Fact]
    public async Task Requests_and_responses_are_compressed_when_asked()
    {
        await using var host = await TestHost.StartAsync();
        using var channel = GrpcChannels.Create(host.Url);
        var client = new TestService.TestServiceClient(channel);

        using var call = client.UnaryCallAsync(
            new SimpleRequest
            {
                ResponseSize = 1000,
                Payload = new Payload { Body = ByteString.CopyFrom(new byte[1000]) },
                ExpectCompressed = new BoolValue { Value = true },
                ResponseCompressed = new BoolValue { Value = true },
            },
            new Metadata { { RecordingService.CompressWith, "gzip" } });

        Assert.Equal(1000, (await call.ResponseAsync).Payload.Body.Length);
        // grpc-dotnet keeps grpc-encoding out of ResponseHeadersAsync, so the server reports what it sent.
        Assert.Equal("gzip", call.GetTrailers().GetValue(RecordingService.ResponseEncoding));

        // The server's check is real: a request that claims compression it lacks is refused.
        var error = await Assert.ThrowsAsync<RpcException>(() => client.UnaryCallAsync(
            new SimpleRequest { ExpectCompressed = new BoolValue { Value = true } }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
    }

    [Fact]
    public async Task Writing_after_completing_the_request_stream_is_refused()
    {
        await using var host = await TestHost.StartAsync();
        using var channel = GrpcChannels.Create(host.Url);
        using var call = new TestService.TestServiceClient(channel).StreamingInputCall();

        await call.RequestStream.WriteAsync(new StreamingInputCallRequest { Payload = new Payload { Body = ByteString.CopyFrom(new byte[10]) } });
        await call.RequestStream.CompleteAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(() => call.RequestStream.WriteAsync(new StreamingInputCallRequest()));
        Assert.Equal(10, (await call).AggregatedPayloadSize);
    }

    /// <remarks>
    /// The old channel also made the failing write report the server's status. grpc-dotnet does
    /// when the write finds the call complete, but a write already waiting for HTTP/2 flow-control
    /// credit when the server resets the stream fails CANCELLED. The call's own status, which
    /// callers act on, is always the server's.
    /// Each attempt has a channel of its own: SocketsHttpHandler sometimes sends one more DATA frame
    /// after its own RST_STREAM on the refused stream (seen in Kestrel's frame log), Kestrel answers
    /// with GOAWAY, and a client stream started on that connection at that moment is re-sent on a new
    /// connection without the body already written, so it waits for its deadline (with none, CI once
    /// waited the server's 1 h streaming limit). That hazard is the next call's, not this one's; the
    /// Clients README describes it. The deadline keeps a regression here from hanging the run.
    /// </remarks>
    [Fact]
    public async Task A_server_error_while_the_client_is_still_sending_is_reported_as_the_servers_status()
    {
        await using var host = await TestHost.StartAsync();
        for (var attempt = 0; attempt < 5; attempt++)
        {
            using var channel = GrpcChannels.Create(host.Url);
            using var call = new TestService.TestServiceClient(channel).StreamingInputCall(deadline: DateTime.UtcNow.AddSeconds(30));
            try
            {
                // The server refuses the first message (it claims compression it lacks) while we keep sending.
                await call.RequestStream.WriteAsync(new StreamingInputCallRequest { ExpectCompressed = new BoolValue { Value = true } });
                var chunk = new StreamingInputCallRequest { Payload = new Payload { Body = ByteString.CopyFrom(new byte[64 * 1024]) } };
                for (var i = 0; i < 200; i++)
                {
                    await call.RequestStream.WriteAsync(chunk);
                }

                await call.RequestStream.CompleteAsync();
            }
            catch (RpcException ex)
            {
                Assert.Contains(ex.StatusCode, new[] { StatusCode.InvalidArgument, StatusCode.Cancelled });
            }
            catch (Exception ex) when (ex is not InvalidOperationException && ServerEndedWrite.Is(ex))
            {
                // A write waiting on flow control when the server ended the call; its status is asserted below.
            }

            var response = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, response.StatusCode);
            Assert.Equal(StatusCode.InvalidArgument, call.GetStatus().StatusCode);
        }
    }

    [Fact]
    public async Task More_than_100_concurrent_calls_open_another_http2_connection()
    {
        // Kestrel allows 100 streams per HTTP/2 connection: on one connection the 101st call would
        // wait for a free stream, here forever, since every call waits for its cancellation.
        const int calls = 150;
        await using var host = await TestHost.StartAsync();
        using var channel = GrpcChannels.Create(host.Url);
        var client = new TestService.TestServiceClient(channel);
        using var cancel = new CancellationTokenSource();

        var running = Enumerable.Range(0, calls)
            .Select(_ => WaitingCall.Start(client, TimeSpan.FromMinutes(10), cancellationToken: cancel.Token))
            .ToList();
        var reads = running.Select(call => call.ResponseStream.MoveNext(CancellationToken.None)).ToList();
        try
        {
            await Eventually.HoldsAsync(() => host.Log.Count("StreamingOutputCall") == calls, $"all {calls} calls were in flight at once");
            Assert.True(host.Log.Calls.Select(c => c.ConnectionId).Distinct().Count() >= 2);
        }
        finally
        {
            await cancel.CancelAsync();
            foreach (var read in reads)
            {
                var error = await Assert.ThrowsAsync<RpcException>(() => read);
                Assert.Equal(StatusCode.Cancelled, error.StatusCode);
            }

            running.ForEach(call => call.Dispose());
        }
    }

    [Fact]
    public void The_handler_keeps_long_lived_http2_connections_healthy()
    {
        // Keep-alive pings start after a minute of silence: asserted as configured, not on the wire.
        using var handler = GrpcChannels.CreateHandler();

        Assert.True(handler.EnableMultipleHttp2Connections);
        Assert.Equal(TimeSpan.FromSeconds(60), handler.KeepAlivePingDelay);
        Assert.Equal(TimeSpan.FromSeconds(20), handler.KeepAlivePingTimeout);
        Assert.Equal(HttpKeepAlivePingPolicy.WithActiveRequests, handler.KeepAlivePingPolicy);
        Assert.Equal(Timeout.InfiniteTimeSpan, handler.PooledConnectionIdleTimeout);
    }

    /// <summary>Adds a request id to every unary call and records how each one ended.</summary>
    private sealed class RequestIdInterceptor : Interceptor
    {
        public List<string> Completed { get; } = [];

        public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
            TRequest request,
            ClientInterceptorContext<TRequest, TResponse> context,
            AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
        {
            var headers = context.Options.Headers ?? [];
            headers.Add("x-request-id", Guid.NewGuid().ToString("N"));
            var call = continuation(request, new ClientInterceptorContext<TRequest, TResponse>(context.Method, context.Host, context.Options.WithHeaders(headers)));
            return new AsyncUnaryCall<TResponse>(
                ObserveAsync(call.ResponseAsync, context.Method.Name),
                call.ResponseHeadersAsync,
                call.GetStatus,
                call.GetTrailers,
                call.Dispose);
        }

        private async Task<TResponse> ObserveAsync<TResponse>(Task<TResponse> response, string method)
        {
            try
            {
                var result = await response;
                Record($"{method} OK");
                return result;
            }
            catch (RpcException ex)
            {
                Record($"{method} {ex.StatusCode}");
                throw;
            }
        }

        private void Record(string outcome)
        {
            lock (Completed)
            {
                Completed.Add(outcome);
            }
        }
    }
}
