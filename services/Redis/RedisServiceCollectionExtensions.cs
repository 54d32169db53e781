using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microservices.Redis;

public static class RedisServiceCollectionExtensions
{
    /// <summary>Configuration key holding a StackExchange.Redis-style connection string.</summary>
    public const string ConnectionStringKey = "Redis:ConnectionString";

    /// <summary>
    /// Registers one shared <see cref="IRedisClient"/> from <c>Redis:ConnectionString</c>. Returns
    /// false (and registers nothing) when the key is absent, so callers can fall back to in-process.
    /// The client connects in the background: a down Redis never blocks startup.
    /// </summary>
    public static bool TryAddRedisClient(this IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = configuration[ConnectionStringKey];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return false;
        }

        services.AddRedisClient(RedisOptions.Parse(connectionString));
        return true;
    }

    public static IServiceCollection AddRedisClient(this IServiceCollection services, RedisOptions options)
    {
        services.TryAddSingleton(_ => RedisClientFactory.Create(options));
        return services;
    }
}
