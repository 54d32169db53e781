using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;

namespace Microservices.Hosting.Server;

/// <summary>
/// grpc-dotnet has no request-metadata limit of its own (only Kestrel's header limits, which reset
/// the stream without a gRPC status). Kestrel's limits sit above this one, so metadata up to them
/// reaches the call and gets an actionable RESOURCE_EXHAUSTED.
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
        var size = 0L;
        foreach (var entry in context.RequestHeaders)
        {
            size += entry.Key.Length + (entry.IsBinary ? entry.ValueBytes.Length : entry.Value.Length);
        }

        if (size > _limit)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted,
                $"request metadata is {size} bytes; the limit is {_limit} (Grpc:MaxRequestMetadataSize)"));
        }
    }
}
