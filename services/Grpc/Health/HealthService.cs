using Grpc.Health.V1;
using Microservices.Grpc.Server;
using Microsoft.Extensions.Hosting;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Microservices.Grpc.Health;

/// <summary>grpc.health.v1.Health, as grpc/doc/health-checking.md specifies it.</summary>
internal sealed class HealthService(HealthStatusRegistry registry, IHostApplicationLifetime lifetime)
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
        // A stopping host ends every watch (after saying NOT_SERVING) so the watch cannot hold shutdown open.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        try
        {
            await foreach (var (service, _) in subscription.Changes.ReadAllAsync(stopping.Token))
            {
                var current = registry.GetStatus(request.Service) ?? ServingStatus.ServiceUnknown;
                if (service == request.Service && current != last)
                {
                    last = current;
                    await responseStream.WriteAsync(new HealthCheckResponse { Status = current }, context.CancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            if (last != ServingStatus.NotServing)
            {
                await responseStream.WriteAsync(new HealthCheckResponse { Status = ServingStatus.NotServing }, context.CancellationToken);
            }
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The watcher left: the stream simply ends.
        }
    }
}
