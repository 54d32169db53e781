using Microservices.Caching.Connection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using StackExchange.Redis;

namespace Microservices.Caching;

public static class RedisConnectionServiceCollectionExtensions
{
    /// <summary>
    /// Registers the process's one <see cref="IConnectionMultiplexer"/> from <c>Redis:ConnectionString</c>
    /// (OpenTelemetry's Redis instrumentation finds it in DI), and connects it when the host starts.
    /// Idempotent: a multiplexer registered before (by the host or an earlier call) is kept and shared.
    /// Returns whether a multiplexer is registered, i.e. whether the cache tier uses Redis.
    /// </summary>
    public static bool TryAddRedisConnection(this IServiceCollection services, IConfiguration configuration)
    {
        if (configuration[RedisConnection.ConnectionStringKey] is { } connectionString && !string.IsNullOrWhiteSpace(connectionString))
        {
            // Parsed now so a malformed string fails at start-up, not on the first request.
            var options = RedisConnection.Options(connectionString, configuration);

            // Connect (not ConnectAsync): DI factories are synchronous. With abortConnect=false it returns
            // within connectTimeout whether or not Redis answers, and keeps reconnecting in the background.
            services.TryAddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(options));
        }

        if (!services.Any(d => d.ServiceType == typeof(IConnectionMultiplexer)))
        {
            return false;
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Hosting.IHostedService, RedisConnectionWarmup>());
        return true;
    }
}
