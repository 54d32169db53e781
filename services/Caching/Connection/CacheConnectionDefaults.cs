using StackExchange.Redis;
using StackExchange.Redis.Configuration;

namespace Microservices.Caching.Connection;

/// <summary>
/// The multiplexer's defaults for a cache tier, used wherever <c>Redis:ConnectionString</c> does
/// not say otherwise (e.g. <c>connectTimeout=5000</c> there wins). Every caller of the cache has an
/// origin to fall back to, so Redis must answer quickly or not at all. (abortConnect and the
/// backlog policy are not defaults: <see cref="RedisConnection.Options"/> fixes them.)
/// </summary>
internal sealed class CacheConnectionDefaults : DefaultOptionsProvider
{
    /// <summary>A connect to an unreachable host gives up after this, so host start-up waits at most this long.</summary>
    public override TimeSpan? ConnectTimeout => TimeSpan.FromSeconds(2);

    /// <summary>
    /// The backstop for calls nobody bounds themselves (locks, rate limits, other users of the
    /// multiplexer). The cache bounds its own calls by the much shorter <c>Cache:RedisTimeout</c>.
    /// </summary>
    public override TimeSpan SyncTimeout => TimeSpan.FromSeconds(2);

    /// <summary>Reconnect soon after Redis comes back (250 ms, doubling to at most 5 s), not after SE.Redis's default 10 s cap.</summary>
    public override IReconnectRetryPolicy ReconnectRetryPolicy => new ExponentialRetry(250, 5000);
}
