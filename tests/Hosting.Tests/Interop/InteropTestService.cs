using Google.Protobuf;
using Grpc.Core;
using Microservices.Hosting.Tests.Support;
using Microservices.Testing.V1;

namespace Microservices.Hosting.Tests.Interop;

/// <summary>The interop TestService as grpc/grpc's reference servers implement it, on the generated base.</summary>
internal sealed class InteropTestService(CallObserver? observer = null) : TestService.TestServiceBase
{
    private const string EchoInitialKey = "x-grpc-test-echo-initial";
    private const string EchoTrailingKey = "x-grpc-test-echo-trailing-bin";

    /// <summary>grpc-dotnet's way for a handler to ask for a compressed response (the name of the channel's algorithm).</summary>
    private const string ResponseEncodingKey = "grpc-internal-encoding-request";

    public override Task<Empty> EmptyCall(Empty request, ServerCallContext context) => Task.FromResult(new Empty());

    public override async Task<SimpleResponse> UnaryCall(SimpleRequest request, ServerCallContext context)
    {
        await EchoMetadataAsync(context, compressResponses: request.ResponseCompressed?.Value == true);
        CheckCompression(request.ExpectCompressed, context);
        ThrowIfStatusRequested(request.ResponseStatus);
        return new SimpleResponse { Payload = Zeros(request.ResponseSize) };
    }

    public override async Task StreamingOutputCall(StreamingOutputCallRequest request, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
    {
        await EchoMetadataAsync(context, compressResponses: request.ResponseParameters.Any(p => p.Compressed?.Value == true));
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

    public override async Task<StreamingInputCallResponse> StreamingInputCall(IAsyncStreamReader<StreamingInputCallRequest> requestStream, ServerCallContext context)
    {
        var total = 0;
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            CheckCompression(requestStream.Current.ExpectCompressed, context);
            total += requestStream.Current.Payload?.Body.Length ?? 0;
        }

        return new StreamingInputCallResponse { AggregatedPayloadSize = total };
    }

    public override async Task FullDuplexCall(IAsyncStreamReader<StreamingOutputCallRequest> requestStream, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
    {
        await EchoMetadataAsync(context, compressResponses: false);
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            ThrowIfStatusRequested(requestStream.Current.ResponseStatus);
            await RespondAsync(requestStream.Current, responseStream, context);
        }
    }

    public override async Task HalfDuplexCall(IAsyncStreamReader<StreamingOutputCallRequest> requestStream, IServerStreamWriter<StreamingOutputCallResponse> responseStream, ServerCallContext context)
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

            // The call's encoding was chosen with the headers; a message that asked for none opts out.
            responseStream.WriteOptions = parameters.Compressed?.Value == true ? null : new WriteOptions(WriteFlags.NoCompress);
            await responseStream.WriteAsync(new StreamingOutputCallResponse { Payload = Zeros(parameters.Size) }, context.CancellationToken);
        }
    }

    private static async Task EchoMetadataAsync(ServerCallContext context, bool compressResponses)
    {
        var headers = new Metadata();
        if (context.RequestHeaders.GetValue(EchoInitialKey) is { } initial)
        {
            headers.Add(EchoInitialKey, initial);
        }

        if (compressResponses)
        {
            headers.Add(ResponseEncodingKey, "gzip");
        }

        if (headers.Count > 0)
        {
            await context.WriteResponseHeadersAsync(headers);
        }

        if (context.RequestHeaders.GetValueBytes(EchoTrailingKey) is { } trailing)
        {
            context.ResponseTrailers.Add(EchoTrailingKey, trailing);
        }
    }

    /// <summary>
    /// The CompressedRequest feature. grpc-dotnet does not expose a message's compressed flag, so,
    /// like its own interop server, this reads the request's grpc-encoding (RequestHeaders omits grpc-*).
    /// </summary>
    private static void CheckCompression(BoolValue? expectCompressed, ServerCallContext context)
    {
        if (expectCompressed is null)
        {
            return;
        }

        var encoding = context.GetHttpContext().Request.Headers["grpc-encoding"].ToString();
        var compressed = encoding.Length > 0 && encoding != "identity";
        if (expectCompressed.Value != compressed)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"Expected the request to arrive {(expectCompressed.Value ? "compressed" : "uncompressed")}, but its grpc-encoding is '{encoding}'."));
        }
    }

    private static void ThrowIfStatusRequested(EchoStatus? status)
    {
        if (status is { Code: not 0 })
        {
            throw new RpcException(new Status((StatusCode)status.Code, status.Message));
        }
    }

    private static Payload Zeros(int size) => new() { Body = ByteString.CopyFrom(new byte[size]) };
}
