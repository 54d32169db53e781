using Google.Protobuf;
using Microservices.Grpc.Client;
using Microservices.Grpc.Tests.Support;
using Microservices.Testing.V1;

namespace Microservices.Grpc.Tests.Interop;

/// <summary>
/// The official interop cases (grpc/doc/interop-test-descriptions.md) driven by our client,
/// with the sizes and expectations that document defines.
/// </summary>
internal sealed class InteropClientCases(GrpcChannel channel)
{
    private static readonly int[] RequestSizes = [27182, 8, 1828, 45904];
    private static readonly int[] ResponseSizes = [31415, 9, 2653, 58979];

    public Task RunAsync(string testCase) => testCase switch
    {
        "empty_unary" => EmptyUnaryAsync(),
        "large_unary" => LargeUnaryAsync(),
        "client_streaming" => ClientStreamingAsync(),
        "server_streaming" => ServerStreamingAsync(),
        "ping_pong" => PingPongAsync(),
        "empty_stream" => EmptyStreamAsync(),
        "custom_metadata" => CustomMetadataAsync(),
        "status_code_and_message" => StatusCodeAndMessageAsync("test status message"),
        "special_status_message" => StatusCodeAndMessageAsync("\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n"),
        "unimplemented_method" => ExpectStatusAsync(StatusCode.Unimplemented, () => channel.UnaryAsync(TestContract.UnimplementedMethod, new Empty())),
        "unimplemented_service" => ExpectStatusAsync(StatusCode.Unimplemented, () => channel.UnaryAsync(TestContract.UnimplementedService, new Empty())),
        "timeout_on_sleeping_server" => TimeoutOnSleepingServerAsync(),
        "cancel_after_begin" => CancelAfterBeginAsync(),
        "cancel_after_first_response" => CancelAfterFirstResponseAsync(),
        "client_compressed_unary" => ClientCompressedUnaryAsync(),
        "server_compressed_unary" => ServerCompressedUnaryAsync(),
        _ => throw new ArgumentException($"Unknown interop case '{testCase}'.", nameof(testCase)),
    };

    private async Task EmptyUnaryAsync()
    {
        var response = await channel.UnaryAsync(TestContract.EmptyCall, new Empty());
        Assert.Equal(new Empty(), response);
    }

    private async Task LargeUnaryAsync()
    {
        var response = await channel.UnaryAsync(TestContract.UnaryCall, new SimpleRequest { ResponseSize = 314159, Payload = Zeros(271828) });
        AssertZeros(314159, response.Payload);
    }

    private async Task ClientStreamingAsync()
    {
        using var call = channel.ClientStreamingCall(TestContract.StreamingInputCall);
        foreach (var size in RequestSizes)
        {
            await call.RequestStream.WriteAsync(new StreamingInputCallRequest { Payload = Zeros(size) });
        }

        await call.RequestStream.CompleteAsync();
        var response = await call;
        Assert.Equal(74922, response.AggregatedPayloadSize);
    }

    private async Task ServerStreamingAsync()
    {
        var request = new StreamingOutputCallRequest();
        request.ResponseParameters.AddRange(ResponseSizes.Select(size => new ResponseParameters { Size = size }));
        using var call = channel.ServerStreamingCall(TestContract.StreamingOutputCall, request);
        var sizes = new List<int>();
        await foreach (var response in call.ResponseStream.ReadAllAsync())
        {
            AssertZeros(response.Payload.Body.Length, response.Payload);
            sizes.Add(response.Payload.Body.Length);
        }

        Assert.Equal(ResponseSizes, sizes);
        Assert.Equal(StatusCode.OK, call.GetStatus().Code);
    }

    private async Task PingPongAsync()
    {
        using var call = channel.DuplexStreamingCall(TestContract.FullDuplexCall);
        for (var i = 0; i < RequestSizes.Length; i++)
        {
            var request = new StreamingOutputCallRequest { Payload = Zeros(RequestSizes[i]) };
            request.ResponseParameters.Add(new ResponseParameters { Size = ResponseSizes[i] });
            await call.RequestStream.WriteAsync(request);
            Assert.True(await call.ResponseStream.MoveNext());
            AssertZeros(ResponseSizes[i], call.ResponseStream.Current.Payload);
        }

        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext());
    }

    private async Task EmptyStreamAsync()
    {
        using var call = channel.DuplexStreamingCall(TestContract.FullDuplexCall);
        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.OK, call.GetStatus().Code);
    }

    private async Task CustomMetadataAsync()
    {
        byte[] trailing = [0xab, 0xab, 0xab];
        var headers = new Metadata().Add("x-grpc-test-echo-initial", "test_initial_metadata_value").Add("x-grpc-test-echo-trailing-bin", trailing);

        using (var unary = channel.UnaryCall(TestContract.UnaryCall, new SimpleRequest { ResponseSize = 314159, Payload = Zeros(271828) }, new CallOptions { Headers = headers }))
        {
            await unary;
            Assert.Equal("test_initial_metadata_value", (await unary.ResponseHeadersAsync).GetValue("x-grpc-test-echo-initial"));
            Assert.Equal(trailing, unary.GetTrailers().GetBytes("x-grpc-test-echo-trailing-bin"));
        }

        using var duplex = channel.DuplexStreamingCall(TestContract.FullDuplexCall, new CallOptions { Headers = headers });
        var request = new StreamingOutputCallRequest { Payload = Zeros(271828) };
        request.ResponseParameters.Add(new ResponseParameters { Size = 314159 });
        await duplex.RequestStream.WriteAsync(request);
        await duplex.RequestStream.CompleteAsync();
        Assert.True(await duplex.ResponseStream.MoveNext());
        AssertZeros(314159, duplex.ResponseStream.Current.Payload);
        Assert.False(await duplex.ResponseStream.MoveNext());
        Assert.Equal("test_initial_metadata_value", (await duplex.ResponseHeadersAsync).GetValue("x-grpc-test-echo-initial"));
        Assert.Equal(trailing, duplex.GetTrailers().GetBytes("x-grpc-test-echo-trailing-bin"));
    }

    private async Task StatusCodeAndMessageAsync(string message)
    {
        var status = new EchoStatus { Code = 2, Message = message };
        var unary = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(TestContract.UnaryCall, new SimpleRequest { ResponseStatus = status }));
        Assert.Equal(new Status(StatusCode.Unknown, message), unary.Status);

        using var duplex = channel.DuplexStreamingCall(TestContract.FullDuplexCall);
        await duplex.RequestStream.WriteAsync(new StreamingOutputCallRequest { ResponseStatus = status });
        await duplex.RequestStream.CompleteAsync();
        var streamed = await Assert.ThrowsAsync<RpcException>(() => duplex.ResponseStream.MoveNext());
        Assert.Equal(new Status(StatusCode.Unknown, message), streamed.Status);
    }

    private async Task TimeoutOnSleepingServerAsync()
    {
        using var call = channel.DuplexStreamingCall(TestContract.FullDuplexCall, new CallOptions().WithTimeout(TimeSpan.FromMilliseconds(1)));
        try
        {
            await call.RequestStream.WriteAsync(new StreamingOutputCallRequest { Payload = Zeros(27182) });
        }
        catch (RpcException ex)
        {
            // The deadline may already have ended the call; the write then reports it.
            Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
    }

    private async Task CancelAfterBeginAsync()
    {
        using var cancellation = new CancellationTokenSource();
        using var call = channel.ClientStreamingCall(TestContract.StreamingInputCall, new CallOptions { CancellationToken = cancellation.Token });
        await cancellation.CancelAsync();
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
    }

    private async Task CancelAfterFirstResponseAsync()
    {
        using var cancellation = new CancellationTokenSource();
        using var call = channel.DuplexStreamingCall(TestContract.FullDuplexCall, new CallOptions { CancellationToken = cancellation.Token });
        var request = new StreamingOutputCallRequest { Payload = Zeros(27182) };
        request.ResponseParameters.Add(new ResponseParameters { Size = 31415 });
        await call.RequestStream.WriteAsync(request);
        Assert.True(await call.ResponseStream.MoveNext());
        await cancellation.CancelAsync();
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
    }

    private async Task ClientCompressedUnaryAsync()
    {
        // Probe: a server that checks compression must refuse an uncompressed request that claims otherwise.
        var probe = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(TestContract.UnaryCall,
            new SimpleRequest { ExpectCompressed = new BoolValue { Value = true }, ResponseSize = 314159, Payload = Zeros(271828) }));
        Assert.Equal(StatusCode.InvalidArgument, probe.StatusCode);

        var compressed = await channel.UnaryAsync(TestContract.UnaryCall,
            new SimpleRequest { ExpectCompressed = new BoolValue { Value = true }, ResponseSize = 314159, Payload = Zeros(271828) },
            new CallOptions { Compression = "gzip" });
        AssertZeros(314159, compressed.Payload);

        var plain = await channel.UnaryAsync(TestContract.UnaryCall,
            new SimpleRequest { ExpectCompressed = new BoolValue { Value = false }, ResponseSize = 314159, Payload = Zeros(271828) });
        AssertZeros(314159, plain.Payload);
    }

    private async Task ServerCompressedUnaryAsync()
    {
        foreach (var compressed in new[] { true, false })
        {
            var response = await channel.UnaryAsync(TestContract.UnaryCall,
                new SimpleRequest { ResponseCompressed = new BoolValue { Value = compressed }, ResponseSize = 314159, Payload = Zeros(271828) });
            AssertZeros(314159, response.Payload);
        }
    }

    private static async Task ExpectStatusAsync(StatusCode expected, Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(expected, error.StatusCode);
    }

    private static Payload Zeros(int size) => new() { Body = ByteString.CopyFrom(new byte[size]) };

    private static void AssertZeros(int expectedSize, Payload payload)
    {
        Assert.Equal(expectedSize, payload.Body.Length);
        Assert.True(payload.Body.Span.IndexOfAnyExcept((byte)0) < 0, "The payload must be all zero bytes.");
    }
}
