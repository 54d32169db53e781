namespace Microservices.Grpc.Server;

/// <summary>
/// Runs around every call (logging, auth, telemetry). Call <c>next</c> to continue; throw an
/// RpcException to end the call with that status without reaching the handler.
/// </summary>
public interface IServerInterceptor
{
    Task InterceptAsync(ServerCallContext context, Func<ServerCallContext, Task> next);
}
