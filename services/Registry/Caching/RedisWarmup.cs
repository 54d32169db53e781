using Microservices.Redis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Microservices.Registry.Caching;

/// <summary>
/// Connects to Redis before the host serves. The cache skips Redis while its connection is not
/// up and counts that as a failure, so the first writes of a cold start would neither reach
/// Redis nor publish their invalidations, and would open the cache's circuit breaker. Redis
/// being down is not fatal: the service starts degraded (logged), as the cache is designed to.
/// </summary>
internal sealed class RedisWarmup(IServiceProvider services, ILogger<RedisWarmup> logger) : IHostedService
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(5);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (services.GetService<IRedisClient>() is not { } redis)
        {
            return;
        }

        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(Budget);
        try
        {
            await redis.PingAsync(budget.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Redis did not answer within {Budget}; serving from the database and in-process cache until it does: {Reason}", Budget, e.Message);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
