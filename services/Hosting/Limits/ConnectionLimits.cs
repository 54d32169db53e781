using System.Globalization;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Microservices.Hosting.Limits;

/// <summary>
/// Bounds on what one client can hold open: connections per host and concurrent HTTP/2 streams
/// (calls) per connection. Set through Kestrel's own keys, <c>Kestrel:Limits:MaxConcurrentConnections</c>
/// and <c>Kestrel:Limits:Http2:MaxStreamsPerConnection</c>; these are the defaults when they are absent
/// (Kestrel's own would leave connections unlimited). A connection over the limit is closed at once;
/// a call over the stream limit waits in the client (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS) rather than failing.
/// </summary>
internal static class ConnectionLimits
{
    public const string MaxConcurrentConnectionsKey = "Kestrel:Limits:MaxConcurrentConnections";

    public const string MaxStreamsPerConnectionKey = "Kestrel:Limits:Http2:MaxStreamsPerConnection";

    public const long DefaultMaxConcurrentConnections = 1000;

    public const int DefaultMaxStreamsPerConnection = 100;

    /// <summary>
    /// Only fills in what configuration leaves out, so it composes with KestrelDefaults' binding of
    /// Kestrel:Limits in either order; a configured value is checked here so a typo fails start-up.
    /// </summary>
    public static IServiceCollection AddConnectionLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var connections = Positive(configuration, MaxConcurrentConnectionsKey, DefaultMaxConcurrentConnections);
        var streams = (int)Positive(configuration, MaxStreamsPerConnectionKey, DefaultMaxStreamsPerConnection);
        services.Configure<KestrelServerOptions>(kestrel =>
        {
            kestrel.Limits.MaxConcurrentConnections = connections;
            kestrel.Limits.Http2.MaxStreamsPerConnection = streams;
        });
        return services;
    }

    private static long Positive(IConfiguration configuration, string key, long fallback) =>
        configuration[key] is not { Length: > 0 } text ? fallback
        : long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0 && value <= int.MaxValue ? value
        : throw new InvalidOperationException($"Configuration {key} must be a positive integer, got '{text}'.");
}
