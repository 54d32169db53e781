using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Microservices.Caching.L1;

/// <summary>
/// The in-process level: least-recently-used eviction bounded by an approximate byte budget, with a
/// per-entry expiry. A hit takes no lock: the map is concurrent, and the hit moves its entry to the
/// front only if the list's lock is free at that moment. Under contention recency is approximate,
/// which costs an eviction choice at worst; a single global lock on every hit measured as the
/// registry's hottest contention (Monitor.Enter_Slowpath) under 64 concurrent Gets on 2 cores.
/// Writes, removals and evictions keep map and list consistent under the lock.
/// </summary>
internal sealed class LruMemoryCache
{
    // Dictionary slot, list node and entry objects; close enough to keep the budget honest.
    private const int EntryOverheadBytes = 96;

    private readonly ConcurrentDictionary<string, LinkedListNode<LocalEntry>> _map = new(StringComparer.Ordinal);
    private readonly LinkedList<LocalEntry> _recency = new();
    private readonly Lock _lock = new();
    private readonly long _maxBytes;
    private readonly TimeProvider _time;
    private long _bytes;

    public LruMemoryCache(long maxBytes, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        _maxBytes = maxBytes;
        _time = time;
    }

    public long Bytes => Interlocked.Read(ref _bytes);

    public int Count => _map.Count;

    public bool TryGet(string key, out byte[] value)
    {
        if (TryGetEntry(key, out var entry))
        {
            value = entry.Value;
            return true;
        }

        value = [];
        return false;
    }

    public bool TryGetEntry(string key, [NotNullWhen(true)] out LocalEntry? entry)
    {
        entry = null;
        if (!_map.TryGetValue(key, out var node))
        {
            return false;
        }

        if (node.Value.ExpiresAt <= _time.GetTimestamp())
        {
            lock (_lock)
            {
                if (_map.TryGetValue(key, out var current) && current == node)
                {
                    RemoveNode(node);
                }
            }

            return false;
        }

        Promote(node);
        entry = node.Value;
        return true;
    }

    public void Set(string key, byte[] value, TimeSpan ttl)
    {
        var size = value.LongLength + (key.Length * 2L) + EntryOverheadBytes;
        var expiresAt = _time.GetTimestamp() + (long)(ttl.TotalSeconds * _time.TimestampFrequency);
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var existing))
            {
                RemoveNode(existing);
            }

            if (size > _maxBytes || ttl <= TimeSpan.Zero)
            {
                return;
            }

            _map[key] = _recency.AddFirst(new LocalEntry(key, value, expiresAt, size));
            Interlocked.Add(ref _bytes, size);
            while (Interlocked.Read(ref _bytes) > _maxBytes && _recency.Last is { } oldest)
            {
                RemoveNode(oldest);
            }
        }
    }

    public bool Remove(string key)
    {
        lock (_lock)
        {
            if (!_map.TryGetValue(key, out var node))
            {
                return false;
            }

            RemoveNode(node);
            return true;
        }
    }

    public void Clear()
    {
        lock (_lock)
        {
            _map.Clear();
            _recency.Clear();
            Interlocked.Exchange(ref _bytes, 0);
        }
    }

    private void Promote(LinkedListNode<LocalEntry> node)
    {
        if (_recency.First == node || !_lock.TryEnter())
        {
            return;
        }

        try
        {
            // Removed or replaced meanwhile: nothing to promote.
            if (node.List == _recency)
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
            }
        }
        finally
        {
            _lock.Exit();
        }
    }

    private void RemoveNode(LinkedListNode<LocalEntry> node)
    {
        _recency.Remove(node);
        _map.TryRemove(node.Value.Key, out _);
        Interlocked.Add(ref _bytes, -node.Value.Size);
    }
}
