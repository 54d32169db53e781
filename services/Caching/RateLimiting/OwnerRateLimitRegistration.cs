using Grpc.AspNetCore.Server;
using Microservices.Caching.RateLimiting;
using Microservices.Hosting.Server;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using StackExchange.Redis;

namespace Microservices.Caching;

public static class OwnerRateLimitRegistration
{
    /// <summary>Redis keys of the buckets: the prefix, the full method name, ':', the owner.</summary>
    internal const string KeyPrefix = "owner-rate:";

    /// <summary>
    /// Per-owner rate limits on the methods section <c>RateLimits:Methods</c> names (keyed
    /// <c>Service.Method</c>: PermitsPerPeriod, Period, Burst), as a gRPC interceptor after the host's
    /// own. With <c>Redis:ConnectionString</c> (the cache tier's one multiplexer) every replica shares
    /// each owner's budget; without it the budget is per process. Call after AddServiceDefaults.
    /// A malformed entry fails here, at start-up, naming its key.
    /// </summary>
    public static IServiceCollection AddOwnerRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(OwnerRateLimitSettings.SectionName);
        _ = Limits(section.Get<OwnerRateLimitSettings>() ?? new OwnerRateLimitSettings());
        services.AddOptions<OwnerRateLimitSettings>().Bind(section);

        var useRedis = services.TryAddRedisConnection(configuration);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ITokenBuckets>(sp => useRedis
            ? new RedisTokenBuckets(sp.GetRequiredService<IConnectionMultiplexer>(), section.Get<OwnerRateLimitSettings>()?.RedisTimeout ?? new OwnerRateLimitSettings().RedisTimeout)
            : new InProcessTokenBuckets());
        services.TryAddSingleton<OwnerRateLimitInterceptor>();
        services.Configure<GrpcServiceOptions>(grpc => grpc.Interceptors.Add<OwnerRateLimitInterceptor>());
        return services;
    }

    /// <summary>The configured limits keyed as GrpcMethodNames.Key, each checked.</summary>
    internal static IReadOnlyDictionary<string, MethodRateLimit> Limits(OwnerRateLimitSettings settings)
    {
        var section = OwnerRateLimitSettings.SectionName + ":Methods";
        foreach (var (name, limit) in settings.Methods)
        {
            limit.Validate(section + ":" + name);
        }

        if (settings.RedisTimeout <= TimeSpan.Zero)
        {
            throw new InvalidOperationException($"Configuration {OwnerRateLimitSettings.SectionName}:RedisTimeout must be a positive TimeSpan like 00:00:01.");
        }

        return GrpcMethodNames.ByKey(settings.Methods, section);
    }
}
