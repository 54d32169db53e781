namespace Microservices.Redis;

public enum SetCondition
{
    Always,
    /// <summary>NX: only if the key does not exist.</summary>
    IfNotExists,
    /// <summary>XX: only if the key already exists.</summary>
    IfExists,
}

/// <summary>A pub/sub delivery. <see cref="Pattern"/> is set for PSUBSCRIBE matches.</summary>
public sealed record RedisMessage(string Channel, string? Pattern, byte[] Payload);

/// <summary>Which of the client's two connections changed state.</summary>
public enum RedisConnectionRole
{
    Interactive,
    Subscriber,
}

public sealed class RedisConnectionStateChangedEventArgs(RedisConnectionRole role, bool isConnected, string? error) : EventArgs
{
    public RedisConnectionRole Role { get; } = role;

    public bool IsConnected { get; } = isConnected;

    public string? Error { get; } = error;
}

/// <summary>
/// A Redis client over one multiplexed, pipelined connection shared by all callers (plus one
/// subscriber connection, opened on the first subscribe). Safe for concurrent use; create one per
/// process and keep it. Server error replies throw <see cref="RedisServerException"/>; a broken
/// connection throws <see cref="RedisConnectionException"/>; a late reply
/// <see cref="RedisTimeoutException"/>. Keys and values are binary-safe.
/// </summary>
public interface IRedisClient : IAsyncDisposable
{
    bool IsConnected { get; }

    /// <summary>Raised from a background thread when either connection drops or comes back.</summary>
    event EventHandler<RedisConnectionStateChangedEventArgs>? ConnectionStateChanged;

    /// <summary>Sends any command; arguments may be string, byte[], ReadOnlyMemory&lt;byte&gt;, RedisKey or an integer.</summary>
    Task<RedisReply> ExecuteAsync(string command, IReadOnlyList<object>? args = null, CancellationToken cancellationToken = default);

    Task<TimeSpan> PingAsync(CancellationToken cancellationToken = default);

    /// <summary>GET; null when the key does not exist (an empty value is an empty array).</summary>
    Task<byte[]?> GetAsync(RedisKey key, CancellationToken cancellationToken = default);

    /// <summary>SET with EX (whole seconds) or PX, and NX/XX. False when the condition was not met.</summary>
    Task<bool> SetAsync(RedisKey key, ReadOnlyMemory<byte> value, TimeSpan? expiry = null, SetCondition condition = SetCondition.Always, CancellationToken cancellationToken = default);

    Task<long> DeleteAsync(IReadOnlyList<RedisKey> keys, CancellationToken cancellationToken = default);

    Task<long> UnlinkAsync(IReadOnlyList<RedisKey> keys, CancellationToken cancellationToken = default);

    Task<byte[]?[]> GetManyAsync(IReadOnlyList<RedisKey> keys, CancellationToken cancellationToken = default);

    Task SetManyAsync(IReadOnlyList<KeyValuePair<RedisKey, ReadOnlyMemory<byte>>> pairs, CancellationToken cancellationToken = default);

    /// <summary>EXPIRE (whole seconds) or PEXPIRE (otherwise). False when the key does not exist.</summary>
    Task<bool> ExpireAsync(RedisKey key, TimeSpan expiry, CancellationToken cancellationToken = default);

    /// <summary>TTL in seconds; -1 without expiry, -2 when the key does not exist (Redis semantics).</summary>
    Task<long> TimeToLiveAsync(RedisKey key, CancellationToken cancellationToken = default);

    Task<long> IncrementAsync(RedisKey key, long by = 1, CancellationToken cancellationToken = default);

    /// <summary>HSET; returns the number of fields that were added (not updated).</summary>
    Task<long> HashSetAsync(RedisKey key, IReadOnlyList<KeyValuePair<RedisKey, ReadOnlyMemory<byte>>> fields, CancellationToken cancellationToken = default);

    Task<byte[]?> HashGetAsync(RedisKey key, RedisKey field, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<KeyValuePair<byte[], byte[]>>> HashGetAllAsync(RedisKey key, CancellationToken cancellationToken = default);

    Task<long> HashDeleteAsync(RedisKey key, IReadOnlyList<RedisKey> fields, CancellationToken cancellationToken = default);

    /// <summary>EVALSHA of the script's SHA1, falling back to EVAL when the server answers NOSCRIPT.</summary>
    Task<RedisReply> EvalAsync(string script, IReadOnlyList<RedisKey> keys, IReadOnlyList<object>? args = null, CancellationToken cancellationToken = default);

    Task<long> PublishAsync(RedisKey channel, ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default);

    /// <summary>
    /// SUBSCRIBE. The handler runs on one background dispatcher, in delivery order. The subscription
    /// survives reconnects; made while Redis is down, it takes effect when Redis is back.
    /// </summary>
    Task<IAsyncDisposable> SubscribeAsync(string channel, Action<RedisMessage> handler, CancellationToken cancellationToken = default);

    /// <summary>PSUBSCRIBE with glob-style patterns; otherwise as <see cref="SubscribeAsync"/>.</summary>
    Task<IAsyncDisposable> PatternSubscribeAsync(string pattern, Action<RedisMessage> handler, CancellationToken cancellationToken = default);

    /// <summary>Iterates the keyspace with SCAN cursors; a key may appear more than once (Redis semantics).</summary>
    IAsyncEnumerable<byte[]> ScanAsync(string? pattern = null, int pageSize = 250, CancellationToken cancellationToken = default);
}
