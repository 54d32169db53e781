using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Microservices.Caching.Connection;

/// <summary>
/// Creates the multiplexer while the host starts, so its connect (at most connectTimeout) is not
/// paid by the first request that touches the cache. Redis being down is not fatal: the host
/// starts degraded (logged) and the multiplexer connects when Redis answers.
/// </summary>
internal sealed class RedisConnectionWarmup(IServiceProvider services, ILogger<RedisConnectionWarmup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var redis = services.GetRequiredService<IConnectionMultiplexer>();
        if (!redis.IsConnected)
        {
            logger.LogWarning("Redis ({Endpoints}) is not reachable; serving from the origin and the in-process cache until it is.", string.Join(", ", redis.GetEndPoints().Select(e => e.ToString())));
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
