using Microsoft.Extensions.Configuration;
using StackExchange.Redis;

namespace Microservices.Caching.Connection;

/// <summary>How the cache tier's one multiplexer per process is configured.</summary>
internal static class RedisConnection
{
    /// <summary>Configuration key holding a StackExchange.Redis connection string.</summary>
    public const string ConnectionStringKey = "Redis:ConnectionString";

    /// <summary>
    /// <see cref="Options(string)"/> of <c>Redis:ConnectionString</c>, with Redis:Password,
    /// Redis:CaCertificatePath and the client certificate applied (<see cref="RedisTransportSecurity"/>).
    /// </summary>
    public static ConfigurationOptions Options(string connectionString, IConfiguration configuration)
    {
        var options = Options(connectionString);
        RedisTransportSecurity.Apply(options, configuration);
        return options;
    }

    /// <summary>
    /// Parses a StackExchange.Redis connection string (<c>host:port,password=…,user=…,ssl=true,…</c>)
    /// over <see cref="CacheConnectionDefaults"/>. Whatever the string says, the first connect never
    /// throws and commands never queue while disconnected: a cache must not take its host down.
    /// </summary>
    public static ConfigurationOptions Options(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var options = ConfigurationOptions.Parse(connectionString);
        options.Defaults = new CacheConnectionDefaults();

        // A host starts without Redis and connects when it can.
        options.AbortOnConnectFail = false;

        // While disconnected a command fails at once instead of queueing for the reconnect: the
        // cache would spend its whole time budget waiting, and an unbounded queue grows with the outage.
        options.BacklogPolicy = BacklogPolicy.FailFast;
        return options;
    }
}
