using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;

namespace Microservices.Hosting.Server;

/// <summary>
/// grpc-dotnet has no request-metadata limit of its own (only Kestrel's header limits, which reset
/// the stream without a gRPC status). Kestrel's limits sit above this one, so metadata up to them
/// reaches the call and gets an actionable RESOURCE_EXHAUSTED. Binary metadata that is not base64
/// gets INTERNAL naming the -bin keys, instead of grpc-dotnet's anonymous UNKNOWN.
/// </summary>
internal sealed class RequestMetadataLimitInterceptor(IOptions<GrpcServerSettings> settings) : Interceptor
{
    private readonly int _limit = settings.Value.MaxRequestMetadataSize;

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, responseStream, context);
    }

    private void Check(ServerCallContext context)
    {
        // The headers as they arrived (names and values as sent, -bin still base64): what the
        // client made the server hold, counted without decoding anything.
        var headers = context.GetHttpContext().Request.Headers;
        var size = 0L;
        var binary = false;
        foreach (var (name, values) in headers)
        {
            binary |= name.EndsWith(Metadata.BinaryHeaderSuffix, StringComparison.OrdinalIgnoreCase);
            foreach (var value in values)
            {
                size += name.Length + (value?.Length ?? 0);
            }
        }

        if (size > _limit)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted,
                $"request metadata is {size} bytes; the limit is {_limit} (Grpc:MaxRequestMetadataSize)"));
        }

        // Only -bin values can fail to decode; materializing RequestHeaders for every call would
        // cost every call an allocation of the whole metadata.
        if (!binary)
        {
            return;
        }

        try
        {
            // grpc-dotnet decodes -bin values when RequestHeaders is first read, and a bad one
            // surfaces as UNKNOWN "Exception was thrown by handler.". Read it here to say which.
            _ = context.RequestHeaders;
        }
        catch (FormatException)
        {
            var names = headers
                .Where(h => h.Key.EndsWith(Metadata.BinaryHeaderSuffix, StringComparison.OrdinalIgnoreCase) && !h.Value.All(IsUnpaddedBase64))
                .Select(h => h.Key);
            throw new RpcException(new Status(StatusCode.Internal,
                $"binary request metadata {string.Join(", ", names)} is not valid base64"));
        }
    }

    /// <summary>Base64 with or without padding, as gRPC allows (and grpc-dotnet decodes) -bin values.</summary>
    private static bool IsUnpaddedBase64(string? value)
    {
        var padded = (value?.Length % 4) switch
        {
            0 => value,
            2 => value + "==",
            3 => value + "=",
            _ => null,
        };
        return padded is not null && Convert.TryFromBase64String(padded, new byte[padded.Length], out _);
    }
}
