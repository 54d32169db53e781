using Grpc.Health.V1;
using Microservices.Grpc.Server;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Microservices.Grpc.Health;

/// <summary>grpc.health.v1.Health, as grpc/doc/health-checking.md specifies it.</summary>
internal sealed class HealthService(HealthStatusRegistry registry)
{
    public Task<HealthCheckResponse> Check(HealthCheckRequest request, ServerCallContext context)
    {
        var status = registry.GetStatus(request.Service)
            ?? throw new RpcException(StatusCode.NotFound, $"Unknown service '{request.Service}'.");
        return Task.FromResult(new HealthCheckResponse { Status = status });
    }

    public async Task Watch(HealthCheckRequest request, IServerStreamWriter<HealthCheckResponse> responseStream, ServerCallContext context)
    {
        using var subscription = registry.Subscribe();
        var last = registry.GetStatus(request.Service) ?? ServingStatus.ServiceUnknown;
        await responseStream.WriteAsync(new HealthCheckResponse { Status = last }, context.CancellationToken);
        try
        {
            await foreach (var (service, _) in subscription.Changes.ReadAllAsync(context.CancellationToken))
            {
                var current = registry.GetStatus(request.Service) ?? ServingStatus.ServiceUnknown;
                if (service == request.Service && current != last)
                {
                    last = current;
                    await responseStream.WriteAsync(new HealthCheckResponse { Status = current }, context.CancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The watcher left or the server is stopping: the stream simply ends.
        }
    }
}
