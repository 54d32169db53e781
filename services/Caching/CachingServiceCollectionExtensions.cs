using System.Globalization;
using Microservices.Caching.Coordination;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using StackExchange.Redis;

namespace Microservices.Caching;

public static class CachingServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ITwoLevelCache"/>, <see cref="ILeaseLockProvider"/> and
    /// <see cref="IFixedWindowRateLimiter"/> for one service. With <c>Redis:ConnectionString</c> set they
    /// share Redis (L2, invalidation, locks, limits) through the process's one
    /// <see cref="IConnectionMultiplexer"/> (see <see cref="RedisConnectionServiceCollectionExtensions.TryAddRedisConnection"/>);
    /// without it everything runs in-process.
    /// Tuning keys (all optional): Cache:Version, Cache:L1MaxBytes, Cache:DefaultExpiry,
    /// Cache:DefaultLocalExpiry, Cache:RedisTimeout, Cache:BreakerFailureThreshold,
    /// Cache:BreakerOpenDuration, Cache:FenceLifetime, Cache:InvalidationRetryInterval,
    /// Cache:MaxPendingInvalidations (TimeSpans as "00:00:05").
    /// </summary>
    public static IServiceCollection AddTwoLevelCache(this IServiceCollection services, IConfiguration configuration, string servicePrefix)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(servicePrefix);
        var options = ReadOptions(configuration.GetSection("Cache"), servicePrefix);
        var useRedis = services.TryAddRedisConnection(configuration);

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(options);
        services.TryAddSingleton<ITwoLevelCache>(sp => new TwoLevelCache(options, useRedis ? sp.GetRequiredService<IConnectionMultiplexer>() : null, sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<ILeaseLockProvider>(sp => useRedis
            ? new RedisLeaseLockProvider(sp.GetRequiredService<IConnectionMultiplexer>(), options.KeyPrefix)
            : new InProcessLeaseLockProvider(sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IFixedWindowRateLimiter>(sp =>
        {
            var local = new InProcessFixedWindowRateLimiter(sp.GetRequiredService<TimeProvider>());
            return useRedis ? new RedisFixedWindowRateLimiter(sp.GetRequiredService<IConnectionMultiplexer>(), options.KeyPrefix, local) : local;
        });
        return services;
    }

    internal static TwoLevelCacheOptions ReadOptions(IConfiguration section, string servicePrefix)
    {
        var defaults = new TwoLevelCacheOptions { ServicePrefix = servicePrefix };
        return new TwoLevelCacheOptions
        {
            ServicePrefix = servicePrefix,
            Version = Int(section, "Version", defaults.Version),
            L1MaxBytes = Long(section, "L1MaxBytes", defaults.L1MaxBytes),
            DefaultExpiry = Time(section, "DefaultExpiry", defaults.DefaultExpiry),
            DefaultLocalExpiry = Time(section, "DefaultLocalExpiry", defaults.DefaultLocalExpiry),
            RedisTimeout = Time(section, "RedisTimeout", defaults.RedisTimeout),
            BreakerFailureThreshold = Int(section, "BreakerFailureThreshold", defaults.BreakerFailureThreshold),
            BreakerOpenDuration = Time(section, "BreakerOpenDuration", defaults.BreakerOpenDuration),
            FenceLifetime = Time(section, "FenceLifetime", defaults.FenceLifetime),
            InvalidationRetryInterval = Time(section, "InvalidationRetryInterval", defaults.InvalidationRetryInterval),
            MaxPendingInvalidations = Int(section, "MaxPendingInvalidations", defaults.MaxPendingInvalidations),
        };
    }

    private static int Int(IConfiguration section, string key, int fallback) => (int)Long(section, key, fallback);

    private static long Long(IConfiguration section, string key, long fallback) =>
        section[key] is not { } text ? fallback
        : long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0 ? value
        : throw new InvalidOperationException($"Configuration Cache:{key} must be a positive integer, got '{text}'.");

    private static TimeSpan Time(IConfiguration section, string key, TimeSpan fallback) =>
        section[key] is not { } text ? fallback
        : TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var value) && value > TimeSpan.Zero ? value
        : throw new InvalidOperationException($"Configuration Cache:{key} must be a positive TimeSpan like 00:00:05, got '{text}'.");
}
