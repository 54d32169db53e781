using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;

namespace Microservices.Hosting.Server;

/// <summary>
/// A deadline on every call, whatever the client asked: Grpc:MaxUnaryDuration, Grpc:MaxStreamingDuration,
/// or Grpc:MaxCallDurations:&lt;Service.Method&gt;. When it passes, the handler's token fires and the call
/// ends with DEADLINE_EXCEEDED naming the limit. A client deadline at or before it is left to grpc-dotnet
/// (the call runs unwrapped). A handler that ignores its token is not interrupted: the status is still
/// DEADLINE_EXCEEDED once it returns.
/// </summary>
internal sealed class ServerDeadlineInterceptor(IOptions<GrpcServerSettings> settings, TimeProvider time) : Interceptor
{
    private readonly GrpcServerSettings _settings = settings.Value;
    private readonly IReadOnlyDictionary<string, TimeSpan> _perMethod =
        GrpcMethodNames.ByKey(settings.Value.MaxCallDurations, GrpcServerSettings.SectionName + ":MaxCallDurations");

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation) =>
        RunAsync(context, _settings.MaxUnaryDuration, bounded => continuation(request, bounded));

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation) =>
        RunAsync(context, _settings.MaxStreamingDuration, bounded => continuation(requestStream, bounded));

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        RunAsync(context, _settings.MaxStreamingDuration, async bounded => { await continuation(request, responseStream, bounded).ConfigureAwait(false); return true; });

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        RunAsync(context, _settings.MaxStreamingDuration, async bounded => { await continuation(requestStream, responseStream, bounded).ConfigureAwait(false); return true; });

    private Task<T> RunAsync<T>(ServerCallContext context, TimeSpan byKind, Func<ServerCallContext, Task<T>> call)
    {
        var limit = _perMethod.TryGetValue(GrpcMethodNames.Key(context.Method), out var configured) ? configured : byKind;
        var deadline = time.GetUtcNow().UtcDateTime + limit;

        // The client's own deadline comes first: grpc-dotnet already ends the call then, with its own status.
        return context.Deadline <= deadline ? call(context) : RunBoundedAsync(context, limit, deadline, call);
    }

    private async Task<T> RunBoundedAsync<T>(ServerCallContext context, TimeSpan limit, DateTime deadline, Func<ServerCallContext, Task<T>> call)
    {
        using var expiry = new CancellationTokenSource(limit, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, expiry.Token);
        var http = context.GetHttpContext();
        var original = http.Features.Get<IServerCallContextFeature>();
        var bounded = new ServerDeadlineCallContext(context, deadline, linked.Token);

        // Clients with call-context propagation (AddServiceClient) read the call from this feature:
        // calls made while serving then carry the server's deadline and stop with it.
        http.Features.Set<IServerCallContextFeature>(new BoundedCallFeature(bounded));
        try
        {
            var result = await call(bounded).ConfigureAwait(false);
            ThrowIfExpired(context, expiry, limit, null);
            return result;
        }
        catch (Exception error) when (expiry.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            ThrowIfExpired(context, expiry, limit, error);
            throw;
        }
        finally
        {
            http.Features.Set(original);
        }
    }

    private static void ThrowIfExpired(ServerCallContext context, CancellationTokenSource expiry, TimeSpan limit, Exception? error)
    {
        if (expiry.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded,
                $"server deadline of {DurationText.Describe(limit)} for {context.Method}", error));
        }
    }

    private sealed class BoundedCallFeature(ServerCallContext call) : IServerCallContextFeature
    {
        public ServerCallContext ServerCallContext => call;
    }
}
