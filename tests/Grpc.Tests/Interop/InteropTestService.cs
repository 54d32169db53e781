using Google.Protobuf;
using Microservices.Grpc.Server;
using Microservices.Grpc.Tests.Support;
using Microservices.Testing.V1;

namespace Microservices.Grpc.Tests.Interop;

/// <summary>The interop TestService as grpc/grpc's reference servers implement it.</summary>
internal sealed class InteropTestService(CallObserver? observer = null)
{
    private const string EchoInitialKey = "x-grpc-test-echo-initial";
    private const string EchoTrailingKey = "x-grpc-test-echo-trailing-bin";

    public Task<Empty> EmptyCall(Empty request, ServerCallContext context) => Task.FromResult(new Empty());

    public async Task<SimpleResponse> UnaryCall(SimpleRequest request, ServerCallContext context)
    {
        await EchoMetadataAsync(context);
        CheckCompression(request.ExpectCompressed, context);
        if (request.ResponseCompressed?.Value == true)
        {
            context.ResponseCompression = "gzip";
        }

        ThrowIfStatusRequested(request.ResponseStatus);
        return new SimpleResponse { Payload = Zeros(request.ResponseSize) };
    }

    public async Task StreamingOutputCall(StreamingOutputCallRequest request, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
    {
        try
        {
            await RespondAsync(request, responseStream, context);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            observer?.OnHandlerCancelled(context.Method);
            throw;
        }

        ThrowIfStatusRequested(request.ResponseStatus);
    }

    public async Task<StreamingInputCallResponse> StreamingInputCall(IAsyncStreamReader<StreamingInputCallRequest> requestStream, ServerCallContext context)
    {
        var total = 0;
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            CheckCompression(requestStream.Current.ExpectCompressed, context);
            total += requestStream.Current.Payload?.Body.Length ?? 0;
        }

        return new StreamingInputCallResponse { AggregatedPayloadSize = total };
    }

    public async Task FullDuplexCall(IAsyncStreamReader<StreamingOutputCallRequest> requestStream, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
    {
        await EchoMetadataAsync(context);
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            ThrowIfStatusRequested(requestStream.Current.ResponseStatus);
            await RespondAsync(requestStream.Current, responseStream, context);
        }
    }

    public async Task HalfDuplexCall(IAsyncStreamReader<StreamingOutputCallRequest> requestStream, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
    {
        var requests = new List<StreamingOutputCallRequest>();
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            requests.Add(requestStream.Current);
        }

        foreach (var request in requests)
        {
            await RespondAsync(request, responseStream, context);
        }
    }

    private static async Task RespondAsync(StreamingOutputCallRequest request, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
    {
        foreach (var parameters in request.ResponseParameters)
        {
            if (parameters.IntervalUs > 0)
            {
                await Task.Delay(TimeSpan.FromMicroseconds(parameters.IntervalUs), context.CancellationToken);
            }

            if (parameters.Compressed is { } compressed)
            {
                context.ResponseCompression = "gzip";
                context.CompressResponseMessages = compressed.Value;
            }

            await responseStream.WriteAsync(new StreamingOutputCallResponse { Payload = Zeros(parameters.Size) }, context.CancellationToken);
        }
    }

    private static async Task EchoMetadataAsync(ServerCallContext context)
    {
        if (context.RequestHeaders.GetValue(EchoInitialKey) is { } initial)
        {
            await context.WriteResponseHeadersAsync(new Metadata().Add(EchoInitialKey, initial));
        }

        if (context.RequestHeaders.GetBytes(EchoTrailingKey) is { } trailing)
        {
            context.ResponseTrailers.Add(EchoTrailingKey, trailing);
        }
    }

    private static void CheckCompression(BoolValue? expectCompressed, ServerCallContext context)
    {
        if (expectCompressed is { } expected && expected.Value != context.RequestMessageCompressed)
        {
            throw new RpcException(StatusCode.InvalidArgument,
                $"Expected the request to arrive {(expected.Value ? "compressed" : "uncompressed")}, but it was {(context.RequestMessageCompressed ? "compressed" : "uncompressed")}.");
        }
    }

    private static void ThrowIfStatusRequested(EchoStatus? status)
    {
        if (status is { Code: not 0 })
        {
            throw new RpcException((StatusCode)status.Code, status.Message);
        }
    }

    private static Payload Zeros(int size) => new() { Body = ByteString.CopyFrom(new byte[size]) };
}
