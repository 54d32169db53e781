namespace Microservices.Caching.L1;

/// <summary>
/// The in-process level: least-recently-used eviction bounded by an approximate byte budget, with a
/// per-entry expiry. One lock keeps it simple; the critical sections are a few pointer moves.
/// </summary>
internal sealed class LruMemoryCache
{
    // Dictionary slot, list node and entry objects; close enough to keep the budget honest.
    private const int EntryOverheadBytes = 96;

    private readonly Dictionary<string, LinkedListNode<Entry>> _map = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _recency = new();
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

    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _map.Count;
            }
        }
    }

    public bool TryGet(string key, out byte[] value)
    {
        var now = _time.GetTimestamp();
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var node))
            {
                if (node.Value.ExpiresAt > now)
                {
                    _recency.Remove(node);
                    _recency.AddFirst(node);
                    value = node.Value.Value;
                    return true;
                }

                RemoveNode(node);
            }
        }

        value = [];
        return false;
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

            _map[key] = _recency.AddFirst(new Entry(key, value, expiresAt, size));
            _bytes += size;
            while (_bytes > _maxBytes && _recency.Last is { } oldest)
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
            _bytes = 0;
        }
    }

    private void RemoveNode(LinkedListNode<Entry> node)
    {
        _recency.Remove(node);
        _map.Remove(node.Value.Key);
        _bytes -= node.Value.Size;
    }

    private sealed record Entry(string Key, byte[] Value, long ExpiresAt, long Size);
}
