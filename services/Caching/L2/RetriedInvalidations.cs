using System.Collections.Concurrent;

namespace Microservices.Caching.L2;

/// <summary>
/// Keys whose write could not invalidate Redis (down, timed out, breaker open): Redis and other
/// replicas' L1 may still hold the old value. This instance neither reads nor fills Redis for such
/// a key, and retries the invalidation every <c>interval</c> until it lands. Past <c>capacity</c>
/// keys it stops counting: every key counts as pending until all entries of the prefix are flushed.
/// </summary>
internal sealed class RetriedInvalidations : IAsyncDisposable
{
    // key → failed invalidations so far. A retry clears a key only if no new failure arrived while
    // it ran: that write may have committed after the retry's removal.
    private readonly ConcurrentDictionary<string, long> _keys = new(StringComparer.Ordinal);
    private readonly Lock _overflowLock = new();
    private readonly int _capacity;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly Func<string, CancellationToken, Task<bool>> _invalidate;
    private readonly Func<CancellationToken, Task<bool>> _flushAll;
    private readonly Action _onUnexpectedError;
    private readonly CancellationTokenSource _disposing = new();

    // Every L1 miss asks Covers: an interlocked count keeps that cheap (ConcurrentDictionary's
    // IsEmpty and Count take every stripe lock).
    private int _count;
    private long _overflowEpoch;
    private volatile bool _overflowed;
    private int _retrying;
    private Task _loop = Task.CompletedTask;

    /// <param name="invalidate">Removes one key from Redis and announces it; false if that failed.</param>
    /// <param name="flushAll">Removes every entry of the prefix and tells replicas to clear L1; false if that failed.</param>
    public RetriedInvalidations(int capacity, TimeSpan interval, TimeProvider time, Func<string, CancellationToken, Task<bool>> invalidate, Func<CancellationToken, Task<bool>> flushAll, Action onUnexpectedError)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _capacity = capacity;
        _interval = interval;
        _time = time;
        _invalidate = invalidate;
        _flushAll = flushAll;
        _onUnexpectedError = onUnexpectedError;
    }

    public bool IsEmpty => !_overflowed && Volatile.Read(ref _count) == 0;

    /// <summary>How many keys wait (capacity + 1 once overflowed).</summary>
    public int Count => _overflowed ? _capacity + 1 : Volatile.Read(ref _count);

    public bool Covers(string key) => _overflowed || (Volatile.Read(ref _count) > 0 && _keys.ContainsKey(key));

    public void Add(string key)
    {
        if (!_keys.TryAdd(key, 1))
        {
            _keys.AddOrUpdate(key, 1, static (_, failures) => failures + 1);
        }
        else if (Interlocked.Increment(ref _count) > _capacity)
        {
            // Too many to track one by one: from now on every key is suspect until a full flush.
            TryRemove(new(key, 1));
            lock (_overflowLock)
            {
                _overflowEpoch++;
                _overflowed = true;
            }
        }

        StartLoopIfIdle();
    }

    public async ValueTask DisposeAsync()
    {
        // Not disposed: a loop started by a racing Add may still read its token.
        await _disposing.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
    }

    private void StartLoopIfIdle()
    {
        if (!_disposing.IsCancellationRequested && Interlocked.Exchange(ref _retrying, 1) == 0)
        {
            _loop = RetryUntilEmptyAsync();
        }
    }

    private async Task RetryUntilEmptyAsync()
    {
        try
        {
            while (!IsEmpty)
            {
                await Task.Delay(_interval, _time, _disposing.Token).ConfigureAwait(false);
                try
                {
                    await RetryOnceAsync(_disposing.Token).ConfigureAwait(false);
                }
                catch (Exception) when (!_disposing.IsCancellationRequested)
                {
                    // Whatever it was, the keys are still pending: count it and try again next interval.
                    _onUnexpectedError();
                }
            }
        }
        catch (OperationCanceledException) when (_disposing.IsCancellationRequested)
        {
            return;
        }
        finally
        {
            Interlocked.Exchange(ref _retrying, 0);
        }

        // An Add that found the loop still running just before it stopped.
        if (!IsEmpty)
        {
            StartLoopIfIdle();
        }
    }

    private async Task RetryOnceAsync(CancellationToken cancellationToken)
    {
        long epoch;
        lock (_overflowLock)
        {
            epoch = _overflowEpoch;
        }

        KeyValuePair<string, long>[] keys = [.. _keys];
        if (_overflowed)
        {
            if (await _flushAll(cancellationToken).ConfigureAwait(false))
            {
                Flushed(epoch, keys);
            }

            return;
        }

        foreach (var seen in keys)
        {
            if (!await _invalidate(seen.Key, cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            TryRemove(seen);
        }
    }

    private void Flushed(long epochBeforeFlush, KeyValuePair<string, long>[] keysBeforeFlush)
    {
        foreach (var seen in keysBeforeFlush)
        {
            TryRemove(seen);
        }

        lock (_overflowLock)
        {
            if (_overflowEpoch == epochBeforeFlush)
            {
                _overflowed = false;
            }
        }
    }

    private void TryRemove(KeyValuePair<string, long> seen)
    {
        if (_keys.TryRemove(seen))
        {
            Interlocked.Decrement(ref _count);
        }
    }
}
