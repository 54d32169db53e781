using System.Text;
using Microservices.Caching.L1;
using Microservices.Caching.L2;
using Microservices.Caching.Resilience;
using Microservices.Caching.Telemetry;
using StackExchange.Redis;

namespace Microservices.Caching;

/// <summary>
/// L1 (bytes-bounded LRU) over L2 (Redis). Writes go to Redis and then announce the key on the
/// prefix's invalidation channel; every other instance evicts it from its L1. Loads fill Redis
/// only if no write happened since they started (<see cref="WriteFence"/>); an invalidation that
/// could not reach Redis is retried until it does (<see cref="RetriedInvalidations"/>). Each Redis call is
/// bounded by <see cref="TwoLevelCacheOptions.RedisTimeout"/> and guarded by a circuit breaker, and
/// any Redis failure turns into "not cached" rather than an error.
/// </summary>
internal sealed class TwoLevelCache : ITwoLevelCache, IAsyncDisposable
{
    // A load started before an invalidation must not put its (possibly old) value into L1.
    // Striped counters give that check without per-key state.
    private const int GenerationStripes = 1024;

    // Scanning a prefix's entries is the rare recovery after too many failed invalidations: SCAN
    // walks the whole database, which may take far longer than a lookup.
    private static readonly TimeSpan FlushBudget = TimeSpan.FromMinutes(5);

    // Announced instead of a key (which can't be empty): every replica clears its whole L1.
    private const string ClearAllKey = "";

    private readonly TwoLevelCacheOptions _options;
    private readonly IConnectionMultiplexer? _redis;
    private readonly IDatabase? _database;
    private readonly LruMemoryCache _l1;
    private readonly SingleFlight<byte[]?> _flights = new();
    private readonly CircuitBreaker _breaker;
    private readonly CacheMetrics _metrics;
    private readonly long[] _generations = new long[GenerationStripes];
    private readonly byte[] _instanceId = Guid.NewGuid().ToByteArray();
    private readonly RedisChannel _invalidationChannel;
    private readonly Task<bool> _subscription;
    private readonly TimeProvider _time;
    private readonly RetriedInvalidations? _retries;

    // 1 while that connection is down (or not yet up): invalidations may be missed meanwhile.
    private int _interactiveLost;
    private int _subscriptionLost;

    public TwoLevelCache(TwoLevelCacheOptions options, IConnectionMultiplexer? redis, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        _time = time;
        _options = options;
        _redis = redis;
        _database = redis?.GetDatabase();
        _l1 = new LruMemoryCache(options.L1MaxBytes, time);
        _breaker = new CircuitBreaker(options.BreakerFailureThreshold, options.BreakerOpenDuration, time);
        _metrics = new CacheMetrics(options.KeyPrefix, () => (int)_breaker.State, () => _l1.Bytes, () => _l1.Count, () => _retries?.Count ?? 0);
        _invalidationChannel = RedisChannel.Literal(options.KeyPrefix + CacheKeyspace.InvalidationChannel);
        if (redis is not null)
        {
            _retries = new RetriedInvalidations(options.MaxPendingInvalidations, options.InvalidationRetryInterval, time, InvalidateRemoteAsync, FlushEntriesAsync, () => _metrics.Error("retry"));
        }

        _subscription = SubscribeAsync();
    }

    public string KeyPrefix => _options.KeyPrefix;

    internal CircuitState BreakerState => _breaker.State;

    internal CacheMetrics Metrics => _metrics;

    internal LruMemoryCache Local => _l1;

    /// <summary>Completes once the invalidation subscription is registered (tests wait on it).</summary>
    internal Task Subscribed => _subscription;

    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        CheckKey(key);
        if (_l1.TryGet(key, out var local))
        {
            _metrics.Hit("l1");
            return Copy(local);
        }

        var generation = Generation(key);
        if (!RemoteMayBeStale(key) && await GetRemoteAsync(key, cancellationToken).ConfigureAwait(false) is { } remote)
        {
            _metrics.Hit("l2");
            PutLocal(key, remote.Payload, Min(_options.DefaultLocalExpiry, remote.Remaining), generation);
            return Copy(remote.Payload);
        }

        _metrics.Miss();
        return null;
    }

    public async Task<byte[]?> GetOrCreateAsync(string key, Func<CancellationToken, Task<byte[]?>> factory, CacheEntryOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(factory);
        CheckKey(key);
        if (_l1.TryGet(key, out var local))
        {
            _metrics.Hit("l1");
            return Copy(local);
        }

        var value = await _flights.RunAsync(key, ct => LoadAsync(key, factory, options, ct), cancellationToken).ConfigureAwait(false);
        return value is null ? null : Copy(value);
    }

    public ValueTask<T?> GetOrCreateAsync<T>(string key, Func<CancellationToken, Task<byte[]?>> factory, Func<byte[], T> decode, CacheEntryOptions? options = null, CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(decode);
        CheckKey(key);
        if (_l1.TryGetEntry(key, out var local))
        {
            _metrics.Hit("l1");
            return ValueTask.FromResult<T?>(local.Decoded(decode));
        }

        return LoadDecodedAsync(key, factory, decode, options, cancellationToken);
    }

    public async Task SetAsync(string key, byte[] value, CacheEntryOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        CheckKey(key);
        var stored = Copy(value);
        Invalidate(key);
        _l1.Set(key, stored, LocalExpiry(options));
        var (envelope, expiryMs) = RemoteEntryOf(stored, options);
        RedisValue[] args = [WriteFence.NewToken(), FenceMilliseconds, envelope, expiryMs];
        await WriteEverywhereAsync("set", key, WriteFence.ReplaceScript, args, cancellationToken).ConfigureAwait(false);
    }

    public async Task RemoveAsync(string key, CancellationToken cancellationToken = default)
    {
        CheckKey(key);
        Invalidate(key);
        await WriteEverywhereAsync("remove", key, WriteFence.RemoveScript, RemoveArgs(), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_redis is not null)
        {
            await _subscription.ConfigureAwait(false);
            _redis.ConnectionFailed -= OnConnectionFailed;
            _redis.ConnectionRestored -= OnConnectionRestored;
            try
            {
                await _redis.GetSubscriber().UnsubscribeAsync(_invalidationChannel, OnInvalidation).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RedisException or RedisTimeoutException or ObjectDisposedException)
            {
                // Redis is gone or the multiplexer closed first: nothing left to unsubscribe from.
            }
        }

        if (_retries is not null)
        {
            await _retries.DisposeAsync().ConfigureAwait(false);
        }

        _metrics.Dispose();
    }

    private async Task<byte[]?> LoadAsync(string key, Func<CancellationToken, Task<byte[]?>> factory, CacheEntryOptions? options, CancellationToken cancellationToken)
    {
        var generation = Generation(key);
        var started = _time.GetTimestamp();
        if (RemoteMayBeStale(key))
        {
            _metrics.Miss();
            return PutLoaded(key, await factory(cancellationToken).ConfigureAwait(false), options, generation);
        }

        // The entry, its fence and the flush token in one round trip; null when Redis could not be asked.
        var remote = await TryRedisAsync("get", (redis, ct) => redis.StringGetAsync(LoadKeysOf(key)).BoundAsync(ct), cancellationToken).ConfigureAwait(false);
        if (Unwrap(remote?[0] ?? RedisValue.Null) is { } hit)
        {
            _metrics.Hit("l2");
            PutLocal(key, hit.Payload, Min(LocalExpiry(options), hit.Remaining), generation);
            return hit.Payload;
        }

        _metrics.Miss();
        if (PutLoaded(key, await factory(cancellationToken).ConfigureAwait(false), options, generation) is not { } loaded)
        {
            return null;
        }

        // A fence older than half its lifetime may have expired in Redis and no longer prove anything.
        if (remote is not null && _time.GetElapsedTime(started) < _options.FenceLifetime / 2)
        {
            await FillRemoteAsync(key, loaded, Seen(remote[1]), Seen(remote[2]), options, cancellationToken).ConfigureAwait(false);
        }

        return loaded;
    }

    private async ValueTask<T?> LoadDecodedAsync<T>(string key, Func<CancellationToken, Task<byte[]?>> factory, Func<byte[], T> decode, CacheEntryOptions? options, CancellationToken cancellationToken)
        where T : class
    {
        // The loaded array is the one L1 holds; decode only reads it.
        var value = await _flights.RunAsync(key, ct => LoadAsync(key, factory, options, ct), cancellationToken).ConfigureAwait(false);
        return value is null ? null : decode(value);
    }

    private byte[]? PutLoaded(string key, byte[]? loaded, CacheEntryOptions? options, long generation)
    {
        if (loaded is null)
        {
            return null;
        }

        loaded = Copy(loaded);
        PutLocal(key, loaded, LocalExpiry(options), generation);
        return loaded;
    }

    /// <summary>Writes Redis (a fenced script) and announces the key; on any failure the invalidation is retried later.</summary>
    private async Task WriteEverywhereAsync(string operation, string key, string script, RedisValue[] args, CancellationToken cancellationToken)
    {
        var landed = false;
        try
        {
            landed = await TryWriteRemoteAsync(operation, key, script, args, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (!landed)
            {
                _retries?.Add(key);
            }
        }
    }

    private Task<bool> InvalidateRemoteAsync(string key, CancellationToken cancellationToken) =>
        TryWriteRemoteAsync("remove", key, WriteFence.RemoveScript, RemoveArgs(), cancellationToken);

    /// <summary>Runs a fenced write script on the key, then announces it; true only if both landed.</summary>
    private async Task<bool> TryWriteRemoteAsync(string operation, string key, string script, RedisValue[] args, CancellationToken cancellationToken) =>
        await TryRedisAsync(operation, (redis, ct) => redis.ScriptEvaluateAsync(script, FencedKeysOf(key), args).BoundAsync(ct), cancellationToken).ConfigureAwait(false) is not null
        && await PublishInvalidationAsync(key, cancellationToken).ConfigureAwait(false);

    private RedisValue[] RemoveArgs() => [WriteFence.NewToken(), FenceMilliseconds];

    /// <summary>What a write or fill stores in Redis: the enveloped payload and its expiry in ms.</summary>
    private (byte[] Envelope, long ExpiryMs) RemoteEntryOf(byte[] payload, CacheEntryOptions? options)
    {
        var expiry = Expiry(options);
        return (CacheEnvelope.Wrap(payload, _time.GetUtcNow() + expiry), Milliseconds(expiry));
    }

    /// <summary>
    /// Unlinks every cache entry of the prefix (not the cache's own keys) and tells every replica to
    /// clear its L1. The flush token changes first, so a load that read the origin before the flush
    /// can't fill Redis after SCAN passed its key.
    /// </summary>
    private async Task<bool> FlushEntriesAsync(CancellationToken cancellationToken)
    {
        var flushed = await TryRedisAsync(
            "flush",
            async (redis, ct) =>
            {
                await redis.StringSetAsync(FlushTokenKey, WriteFence.NewToken(), _options.FenceLifetime).BoundAsync(ct).ConfigureAwait(false);
                foreach (var server in _redis!.GetServers().Where(s => !s.IsReplica))
                {
                    await PrefixFlush.UnlinkEntriesAsync(server, redis, _options.KeyPrefix, ct).ConfigureAwait(false);
                }

                return true;
            },
            cancellationToken,
            FlushBudget).ConfigureAwait(false);
        return flushed && await PublishInvalidationAsync(ClearAllKey, cancellationToken).ConfigureAwait(false);
    }

    private bool RemoteMayBeStale(string key) => _retries?.Covers(key) == true;

    private async Task<(byte[] Payload, TimeSpan Remaining)?> GetRemoteAsync(string key, CancellationToken cancellationToken) =>
        Unwrap(await TryRedisAsync("get", (redis, ct) => redis.StringGetAsync(RedisKeyOf(key)).BoundAsync(ct), cancellationToken).ConfigureAwait(false));

    private (byte[] Payload, TimeSpan Remaining)? Unwrap(RedisValue stored)
    {
        if (stored.IsNull || !CacheEnvelope.TryUnwrap((byte[])stored!, out var payload, out var expiresAt))
        {
            return null;
        }

        var remaining = expiresAt - _time.GetUtcNow();
        return remaining > TimeSpan.Zero ? (payload, remaining) : null;
    }

    private async Task FillRemoteAsync(string key, byte[] payload, RedisValue fenceSeen, RedisValue flushSeen, CacheEntryOptions? options, CancellationToken cancellationToken)
    {
        var (envelope, expiryMs) = RemoteEntryOf(payload, options);
        RedisValue[] args = [fenceSeen, flushSeen, envelope, expiryMs];
        var reply = await TryRedisAsync("fill", (redis, ct) => redis.ScriptEvaluateAsync(WriteFence.FillScript, LoadKeysOf(key), args).BoundAsync(ct), cancellationToken).ConfigureAwait(false);
        if (reply is not null && (long)reply == 0)
        {
            _metrics.FillRefused();
        }
    }

    /// <summary>
    /// Runs one Redis operation within the cache's time budget. Returns default when Redis is not
    /// configured, the breaker is open, or the operation fails; only the caller's own cancellation throws.
    /// </summary>
    private async Task<T?> TryRedisAsync<T>(string operation, Func<IDatabase, CancellationToken, Task<T>> call, CancellationToken cancellationToken, TimeSpan? budget = null)
    {
        // While disconnected the multiplexer fails a command at once (BacklogPolicy.FailFast), so
        // no request waits for a reconnect; see RedisConnection.
        if (_database is null || !_breaker.TryAcquire())
        {
            return default;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(budget ?? _options.RedisTimeout);
        try
        {
            var result = await call(_database, timeout.Token).ConfigureAwait(false);
            _breaker.RecordSuccess();
            return result;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _breaker.RecordAbandoned();
            throw;
        }
        catch (Exception ex) when (ex is RedisException or RedisTimeoutException or OperationCanceledException or ObjectDisposedException)
        {
            _breaker.RecordFailure();
            _metrics.Error(operation);
            return default;
        }
    }

    /// <summary>Announces the key (<see cref="ClearAllKey"/>: everything) to the other replicas; false if Redis could not be told.</summary>
    private async Task<bool> PublishInvalidationAsync(string key, CancellationToken cancellationToken)
    {
        var keyBytes = Encoding.UTF8.GetBytes(key);
        var message = new byte[_instanceId.Length + keyBytes.Length];
        _instanceId.CopyTo(message, 0);
        keyBytes.CopyTo(message, _instanceId.Length);
        return await TryRedisAsync(
            "publish",
            async (redis, ct) =>
            {
                await redis.Multiplexer.GetSubscriber().PublishAsync(_invalidationChannel, message).BoundAsync(ct).ConfigureAwait(false);
                return true;
            },
            cancellationToken).ConfigureAwait(false);
    }

    private async Task<bool> SubscribeAsync()
    {
        if (_redis is null)
        {
            return false;
        }

        // A multiplexer still connecting counts as having lost its connections: once they come up,
        // invalidations published before this instance subscribed are missed too.
        _interactiveLost = _subscriptionLost = _redis.IsConnected ? 0 : 1;
        _redis.ConnectionFailed += OnConnectionFailed;
        _redis.ConnectionRestored += OnConnectionRestored;
        try
        {
            // The multiplexer keeps the subscription across reconnects, and makes it later if Redis is down now.
            await _redis.GetSubscriber().SubscribeAsync(_invalidationChannel, OnInvalidation).ConfigureAwait(false);

            // Reads served before the subscription was in place filled L1 without hearing the
            // invalidations published meanwhile: forget them. A fill still in flight captured the old
            // generation and is refused (PutLocal), so from here on every change is heard.
            ForgetLocal();
            return true;
        }
        catch (Exception ex) when (ex is RedisException or RedisTimeoutException or ObjectDisposedException)
        {
            // Without invalidations L1 entries still expire after DefaultLocalExpiry; the cache keeps working.
            _metrics.Error("subscribe");
            return false;
        }
    }

    private void OnInvalidation(RedisChannel channel, RedisValue message)
    {
        var payload = (byte[]?)message;
        if (payload is null || payload.Length < _instanceId.Length || payload.AsSpan(0, _instanceId.Length).SequenceEqual(_instanceId))
        {
            return;
        }

        var key = Encoding.UTF8.GetString(payload.AsSpan(_instanceId.Length));
        if (key.Length == 0)
        {
            ForgetLocal();
        }
        else
        {
            Invalidate(key);
        }

        _metrics.Invalidated();
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e) =>
        Interlocked.Exchange(ref Lost(e.ConnectionType), 1);

    /// <summary>
    /// Invalidations published while a connection was down are lost: forget everything local. Any
    /// connection counts, not only ConnectionType.Subscription: under RESP3 the multiplexer may carry
    /// pub/sub on the interactive connection, and a needless clear only costs some L1 misses.
    /// </summary>
    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (Interlocked.Exchange(ref Lost(e.ConnectionType), 0) == 1)
        {
            ForgetLocal();
        }
    }

    private ref int Lost(ConnectionType type) => ref type == ConnectionType.Subscription ? ref _subscriptionLost : ref _interactiveLost;

    private void ForgetLocal()
    {
        for (var i = 0; i < _generations.Length; i++)
        {
            Interlocked.Increment(ref _generations[i]);
        }

        _l1.Clear();
    }

    private void Invalidate(string key)
    {
        Interlocked.Increment(ref _generations[Stripe(key)]);
        _l1.Remove(key);
    }

    private void PutLocal(string key, byte[] value, TimeSpan ttl, long generation)
    {
        if (Generation(key) == generation)
        {
            _l1.Set(key, value, ttl);
        }
    }

    private long Generation(string key) => Interlocked.Read(ref _generations[Stripe(key)]);

    private static int Stripe(string key) => (StringComparer.Ordinal.GetHashCode(key) & int.MaxValue) % GenerationStripes;

    private RedisKey RedisKeyOf(string key) => _options.KeyPrefix + key;

    /// <summary>A fence or flush token as a load read it; an absent one is "" (what the fill script compares with).</summary>
    private static RedisValue Seen(RedisValue token) => token.IsNull ? RedisValue.EmptyString : token;

    private RedisKey[] FencedKeysOf(string key) => [RedisKeyOf(key), _options.KeyPrefix + CacheKeyspace.Fence(key)];

    private RedisKey[] LoadKeysOf(string key) => [.. FencedKeysOf(key), FlushTokenKey];

    private RedisKey FlushTokenKey => _options.KeyPrefix + CacheKeyspace.FlushToken;

    private long FenceMilliseconds => Milliseconds(_options.FenceLifetime);

    private static long Milliseconds(TimeSpan span) => Math.Max(1, (long)Math.Ceiling(span.TotalMilliseconds));

    private static void CheckKey(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (CacheKeyspace.IsReserved(key))
        {
            throw new ArgumentException($"Cache keys starting with '{CacheKeyspace.Reserved}' are reserved for the cache itself.", nameof(key));
        }
    }

    private TimeSpan Expiry(CacheEntryOptions? options) => options?.Expiry ?? _options.DefaultExpiry;

    private TimeSpan LocalExpiry(CacheEntryOptions? options)
    {
        var local = options?.LocalExpiry ?? _options.DefaultLocalExpiry;
        var remote = Expiry(options);
        return local < remote ? local : remote;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static byte[] Copy(byte[] value) => value.Length == 0 ? [] : (byte[])value.Clone();
}
