using Google.Protobuf;
using Grpc.Core;
using Microservices.Testing.V1;

namespace Microservices.Clients.Tests.Support;

/// <summary>
/// The test contract served the way the interop descriptions ask (sizes, delays, echoed status and
/// metadata, compression checks), with every call counted in the host's <see cref="ServerLog"/>.
/// </summary>
internal sealed class RecordingService(ServerLog log) : TestService.TestServiceBase
{
    public const string EchoInitial = "x-grpc-test-echo-initial";
    public const string EchoTrailing = "x-grpc-test-echo-trailing-bin";

    // grpc-dotnet's per-call switch for compressing what it sends (request or response).
    public const string CompressWith = "grpc-internal-encoding-request";

    // The encoding the server actually sent its response with, reported back as a trailer.
    public const string ResponseEncoding = "x-grpc-test-response-encoding";

    public override Task<Empty> EmptyCall(Empty request, ServerCallContext context)
    {
        log.Enter(context);
        return Task.FromResult(new Empty());
    }

    public override async Task<SimpleResponse> UnaryCall(SimpleRequest request, ServerCallContext context)
    {
        log.Enter(context);
        RequireCompression(request.ExpectCompressed, context);
        var headers = new Metadata();
        if (context.RequestHeaders.Get(EchoInitial) is { } initial)
        {
            headers.Add(EchoInitial, initial.Value);
        }

        if (request.ResponseCompressed?.Value == true)
        {
            headers.Add(CompressWith, "gzip");
        }

        await context.WriteResponseHeadersAsync(headers);
        context.ResponseTrailers.Add(ResponseEncoding, context.GetHttpContext().Response.Headers["grpc-encoding"].ToString());
        var trailers = new Metadata();
        if (context.RequestHeaders.Get(EchoTrailing) is { } trailing)
        {
            trailers.Add(EchoTrailing, trailing.ValueBytes);
        }

        if (request.ResponseStatus is { Code: not 0 } status)
        {
            throw new RpcException(new Status((StatusCode)status.Code, status.Message), trailers);
        }

        foreach (var trailer in trailers)
        {
            context.ResponseTrailers.Add(trailer);
        }

        return new SimpleResponse { Payload = Zeros(request.ResponseSize) };
    }

    public override async Task StreamingOutputCall(
        StreamingOutputCallRequest request,
        IServerStreamWriter<StreamingOutputCallResponse> responseStream,
        ServerCallContext context)
    {
        log.Enter(context);
        foreach (var parameters in request.ResponseParameters)
        {
            try
            {
                await Task.Delay(TimeSpan.FromMicroseconds(parameters.IntervalUs), context.CancellationToken);
            }
            catch (OperationCanceledException)
            {
                log.HandlerCancelled.TrySetResult();
                throw;
            }

            await responseStream.WriteAsync(new StreamingOutputCallResponse { Payload = Zeros(parameters.Size) });
        }
    }

    public override async Task<StreamingInputCallResponse> StreamingInputCall(
        IAsyncStreamReader<StreamingInputCallRequest> requestStream,
        ServerCallContext context)
    {
        log.Enter(context);
        var size = 0;
        await foreach (var message in requestStream.ReadAllAsync(context.CancellationToken))
        {
            RequireCompression(message.ExpectCompressed, context);
            size += message.Payload?.Body.Length ?? 0;
        }

        return new StreamingInputCallResponse { AggregatedPayloadSize = size };
    }

    private static Payload Zeros(int size) => new() { Body = ByteString.CopyFrom(new byte[size]) };

    private static void RequireCompression(BoolValue? expected, ServerCallContext context)
    {
        if (expected is null)
        {
            return;
        }

        var compressed = context.GetHttpContext().Request.Headers["grpc-encoding"] is [{ } encoding] && encoding != "identity";
        if (compressed != expected.Value)
        {
            throw new RpcException(new Status(
                StatusCode.InvalidArgument,
                $"expect_compressed is {expected.Value} but the request {(compressed ? "was" : "was not")} compressed."));
        }
    }
}
