using System.Globalization;
using System.Net.Security;

namespace Microservices.Redis;

/// <summary>
/// Connection settings. <see cref="Parse"/> reads the StackExchange.Redis connection-string format
/// (<c>host:port,password=…,user=…,ssl=true,connectTimeout=…,defaultDatabase=…,abortConnect=false</c>)
/// so operators can reuse what they already know.
/// </summary>
public sealed class RedisOptions
{
    public const int DefaultPort = 6379;

    /// <summary>Endpoints tried in order on every (re)connect; the first that answers is used.</summary>
    public List<(string Host, int Port)> Endpoints { get; } = [];

    public string? User { get; set; }

    public string? Password { get; set; }

    public bool Ssl { get; set; }

    /// <summary>Name checked against the server certificate; defaults to the endpoint host.</summary>
    public string? SslHost { get; set; }

    /// <summary>Code-only hook for private CAs and tests; null means the platform's validation.</summary>
    public RemoteCertificateValidationCallback? CertificateValidation { get; set; }

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a command may wait for its reply, queueing while disconnected included.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public int DefaultDatabase { get; set; }

    /// <summary>When true, <see cref="RedisClientFactory.ConnectAsync"/> throws if the first connect fails.</summary>
    public bool AbortOnConnectFail { get; set; } = true;

    public string? ClientName { get; set; }

    /// <summary>Cap of the exponential reconnect backoff.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan KeepAlive { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// 2 (default) or 3. With 3 the interactive connection negotiates RESP3 with HELLO (Redis 6+);
    /// replies are mapped back to RESP2 shapes. The subscriber connection always speaks RESP2.
    /// </summary>
    public int Protocol { get; set; } = 2;

    public static RedisOptions Parse(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var options = new RedisOptions();
        foreach (var rawPart in connectionString.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = rawPart.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                options.Endpoints.Add(ParseEndpoint(rawPart));
                continue;
            }

            var key = rawPart[..eq].Trim();
            var value = rawPart[(eq + 1)..].Trim();
            switch (key.ToLowerInvariant())
            {
                case "password":
                    options.Password = value;
                    break;
                case "user":
                    options.User = value;
                    break;
                case "ssl":
                    options.Ssl = ParseBool(key, value);
                    break;
                case "sslhost":
                    options.SslHost = value;
                    break;
                case "connecttimeout":
                    options.ConnectTimeout = ParseMilliseconds(key, value);
                    break;
                case "synctimeout":
                case "asynctimeout":
                    options.CommandTimeout = ParseMilliseconds(key, value);
                    break;
                case "defaultdatabase":
                    options.DefaultDatabase = ParseInt(key, value);
                    break;
                case "abortconnect":
                    options.AbortOnConnectFail = ParseBool(key, value);
                    break;
                case "name":
                    options.ClientName = value;
                    break;
                case "keepalive":
                    options.KeepAlive = TimeSpan.FromSeconds(ParseInt(key, value));
                    break;
                case "protocol":
                    options.Protocol = value.ToLowerInvariant() switch
                    {
                        "resp2" or "2" => 2,
                        "resp3" or "3" => 3,
                        _ => throw new ArgumentException($"Redis option 'protocol' must be resp2 or resp3, got '{value}'."),
                    };
                    break;
                case "connectretry":
                case "allowadmin":
                    // Accepted for compatibility: reconnect is unlimited and admin commands are not gated.
                    break;
                default:
                    throw new ArgumentException(
                        $"Unknown Redis connection-string option '{key}'. Known: password, user, ssl, sslHost, connectTimeout, syncTimeout, asyncTimeout, defaultDatabase, abortConnect, name, keepAlive, protocol.",
                        nameof(connectionString));
            }
        }

        if (options.Endpoints.Count == 0)
        {
            throw new ArgumentException("The Redis connection string names no endpoint (expected host:port first).", nameof(connectionString));
        }

        return options;
    }

    private static (string Host, int Port) ParseEndpoint(string text)
    {
        // [::1]:6379, ::1 is ambiguous so IPv6 needs brackets when a port is given.
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw new ArgumentException($"Invalid Redis endpoint '{text}': missing ']'.");
            }

            var host = text[1..close];
            var rest = text[(close + 1)..];
            return (host, rest.StartsWith(':') ? ParsePort(text, rest[1..]) : DefaultPort);
        }

        var colon = text.LastIndexOf(':');
        if (colon < 0 || text.IndexOf(':', StringComparison.Ordinal) != colon)
        {
            return (text, DefaultPort);
        }

        return (text[..colon], ParsePort(text, text[(colon + 1)..]));
    }

    private static int ParsePort(string endpoint, string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536
            ? port
            : throw new ArgumentException($"Invalid Redis endpoint '{endpoint}': port must be 1-65535.");

    private static bool ParseBool(string key, string value) =>
        bool.TryParse(value, out var result) ? result : throw new ArgumentException($"Redis option '{key}' must be true or false, got '{value}'.");

    private static int ParseInt(string key, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var result) && result >= 0
            ? result
            : throw new ArgumentException($"Redis option '{key}' must be a non-negative integer, got '{value}'.");

    private static TimeSpan ParseMilliseconds(string key, string value) => TimeSpan.FromMilliseconds(ParseInt(key, value));
}
