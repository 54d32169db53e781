using System.Text;
using Microservices.Caching.L1;
using Microservices.Caching.L2;
using Microservices.Caching.Resilience;
using Microservices.Caching.Telemetry;
using Microservices.Redis;

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
    private readonly IRedisClient? _redis;
    private readonly LruMemoryCache _l1;
    private readonly SingleFlight<byte[]?> _flights = new();
    private readonly CircuitBreaker _breaker;
    private readonly CacheMetrics _metrics;
    private readonly long[] _generations = new long[GenerationStripes];
    private readonly byte[] _instanceId = Guid.NewGuid().ToByteArray();
    private readonly string _invalidationChannel;
    private readonly Task<IAsyncDisposable?> _subscription;
    private readonly TimeProvider _time;
    private readonly RetriedInvalidations? _retries;
    private volatile bool _subscriberLost;

    public TwoLevelCache(TwoLevelCacheOptions options, IRedisClient? redis, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        _time = time;
        _options = options;
        _redis = redis;
        _l1 = new LruMemoryCache(options.L1MaxBytes, time);
        _breaker = new CircuitBreaker(options.BreakerFailureThreshold, options.BreakerOpenDuration, time);
        _metrics = new CacheMetrics(options.KeyPrefix, () => (int)_breaker.State, () => _l1.Bytes, () => _l1.Count, () => _retries?.Count ?? 0);
        _invalidationChannel = options.KeyPrefix + CacheKeyspace.InvalidationChannel;
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

    public async Task SetAsync(string key, byte[] value, CacheEntryOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        CheckKey(key);
        var stored = Copy(value);
        Invalidate(key);
        _l1.Set(key, stored, LocalExpiry(options));
        var (envelope, expiryMs) = RemoteEntryOf(stored, options);
        object[] args = [WriteFence.NewToken(), FenceMilliseconds, envelope, expiryMs];
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
        if (await _subscription.ConfigureAwait(false) is { } subscription)
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
        }

        if (_redis is not null)
        {
            _redis.ConnectionStateChanged -= OnConnectionStateChanged;
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
        var remote = await TryRedisAsync("get", (redis, ct) => redis.GetManyAsync(LoadKeysOf(key), ct), cancellationToken).ConfigureAwait(false);
        if (Unwrap(remote?[0]) is { } hit)
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
            await FillRemoteAsync(key, loaded, remote[1] ?? [], remote[2] ?? [], options, cancellationToken).ConfigureAwait(false);
        }

        return loaded;
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
    private async Task WriteEverywhereAsync(string operation, string key, string script, object[] args, CancellationToken cancellationToken)
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
    private async Task<bool> TryWriteRemoteAsync(string operation, string key, string script, object[] args, CancellationToken cancellationToken) =>
        await TryRedisAsync(operation, (redis, ct) => redis.EvalAsync(script, FencedKeysOf(key), args, ct), cancellationToken).ConfigureAwait(false) is not null
        && await PublishInvalidationAsync(key, cancellationToken).ConfigureAwait(false);

    private object[] RemoveArgs() => [WriteFence.NewToken(), FenceMilliseconds];

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
        const int Batch = 500;
        var reserved = Encoding.UTF8.GetBytes(_options.KeyPrefix + CacheKeyspace.Reserved);
        var pattern = GlobEscape(_options.KeyPrefix) + "*";
        var flushed = await TryRedisAsync(
            "flush",
            async (redis, ct) =>
            {
                await redis.SetAsync(FlushTokenKey, WriteFence.NewToken(), _options.FenceLifetime, cancellationToken: ct).ConfigureAwait(false);
                var keys = new List<RedisKey>(Batch);
                await foreach (var key in redis.ScanAsync(pattern, Batch, ct).ConfigureAwait(false))
                {
                    if (!key.AsSpan().StartsWith(reserved))
                    {
                        keys.Add(key);
                    }

                    if (keys.Count == Batch)
                    {
                        await redis.UnlinkAsync(keys, ct).ConfigureAwait(false);
                        keys.Clear();
                    }
                }

                if (keys.Count > 0)
                {
                    await redis.UnlinkAsync(keys, ct).ConfigureAwait(false);
                }

                return true;
            },
            cancellationToken,
            FlushBudget).ConfigureAwait(false);
        return flushed && await PublishInvalidationAsync(ClearAllKey, cancellationToken).ConfigureAwait(false);
    }

    private bool RemoteMayBeStale(string key) => _retries?.Covers(key) == true;

    private async Task<(byte[] Payload, TimeSpan Remaining)?> GetRemoteAsync(string key, CancellationToken cancellationToken) =>
        Unwrap(await TryRedisAsync("get", (redis, ct) => redis.GetAsync(RedisKeyOf(key), ct), cancellationToken).ConfigureAwait(false));

    private (byte[] Payload, TimeSpan Remaining)? Unwrap(byte[]? stored)
    {
        if (stored is null || !CacheEnvelope.TryUnwrap(stored, out var payload, out var expiresAt))
        {
            return null;
        }

        var remaining = expiresAt - _time.GetUtcNow();
        return remaining > TimeSpan.Zero ? (payload, remaining) : null;
    }

    private async Task FillRemoteAsync(string key, byte[] payload, byte[] fenceSeen, byte[] flushSeen, CacheEntryOptions? options, CancellationToken cancellationToken)
    {
        var (envelope, expiryMs) = RemoteEntryOf(payload, options);
        object[] args = [fenceSeen, flushSeen, envelope, expiryMs];
        var reply = await TryRedisAsync("fill", (redis, ct) => redis.EvalAsync(WriteFence.FillScript, LoadKeysOf(key), args, ct), cancellationToken).ConfigureAwait(false);
        if (reply?.Integer == 0)
        {
            _metrics.FillRefused();
        }
    }

    /// <summary>
    /// Runs one Redis operation within the cache's time budget. Returns default when Redis is not
    /// configured, the breaker is open, or the operation fails; only the caller's own cancellation throws.
    /// </summary>
    private async Task<T?> TryRedisAsync<T>(string operation, Func<IRedisClient, CancellationToken, Task<T>> call, CancellationToken cancellationToken, TimeSpan? budget = null)
    {
        if (_redis is null || !_breaker.TryAcquire())
        {
            return default;
        }

        if (!_redis.IsConnected)
        {
            // Queueing behind a reconnect would only spend the request's time budget.
            _breaker.RecordFailure();
            _metrics.Error(operation);
            return default;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(budget ?? _options.RedisTimeout);
        try
        {
            var result = await call(_redis, timeout.Token).ConfigureAwait(false);
            _breaker.RecordSuccess();
            return result;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _breaker.RecordAbandoned();
            throw;
        }
        catch (Exception ex) when (ex is RedisException or OperationCanceledException or ObjectDisposedException)
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
                await redis.PublishAsync(_invalidationChannel, message, ct).ConfigureAwait(false);
                return true;
            },
            cancellationToken).ConfigureAwait(false);
    }

    private async Task<IAsyncDisposable?> SubscribeAsync()
    {
        if (_redis is null)
        {
            return null;
        }

        _redis.ConnectionStateChanged += OnConnectionStateChanged;
        try
        {
            // The client keeps the subscription across reconnects, and registers it later if Redis is down now.
            return await _redis.SubscribeAsync(_invalidationChannel, OnInvalidation).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
        {
            // Without invalidations L1 entries still expire after DefaultLocalExpiry; the cache keeps working.
            _metrics.Error("subscribe");
            return null;
        }
    }

    private void OnInvalidation(RedisMessage message)
    {
        if (message.Payload.Length < _instanceId.Length || message.Payload.AsSpan(0, _instanceId.Length).SequenceEqual(_instanceId))
        {
            return;
        }

        var key = Encoding.UTF8.GetString(message.Payload.AsSpan(_instanceId.Length));
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

    private void OnConnectionStateChanged(object? sender, RedisConnectionStateChangedEventArgs e)
    {
        if (e.Role != RedisConnectionRole.Subscriber)
        {
            return;
        }

        if (!e.IsConnected)
        {
            _subscriberLost = true;
        }
        else if (_subscriberLost)
        {
            _subscriberLost = false;

            // Invalidations published while we were not subscribed are lost: forget everything local.
            ForgetLocal();
        }
    }

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

    private RedisKey[] FencedKeysOf(string key) => [RedisKeyOf(key), _options.KeyPrefix + CacheKeyspace.Fence(key)];

    private RedisKey[] LoadKeysOf(string key) => [.. FencedKeysOf(key), FlushTokenKey];

    private RedisKey FlushTokenKey => _options.KeyPrefix + CacheKeyspace.FlushToken;

    private static string GlobEscape(string text) =>
        System.Text.RegularExpressions.Regex.Replace(text, @"[\\*?\[\]]", @"\$0");

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
