using Microservices.Blob.Digests;

namespace Microservices.Blob.Caching;

/// <summary>
/// A local LRU cache of original blob bytes on disk, bounded in bytes, in front of a remote
/// backend (S3). Every hit is re-hashed before it is served: a corrupted entry is dropped and
/// fetched again, never served. Sensitive blobs are never cached (their plaintext stays off disk).
/// </summary>
internal sealed class LocalBlobCache
{
    private readonly string _directory;
    private readonly long _maxBytes;
    private readonly Lock _gate = new();
    private readonly LinkedList<(string Hash, long Size)> _lru = new();
    private readonly Dictionary<string, LinkedListNode<(string Hash, long Size)>> _entries = new(StringComparer.Ordinal);
    private long _bytes;

    public LocalBlobCache(string directory, long maxBytes, long maxEntryBytes)
    {
        _directory = directory;
        _maxBytes = maxBytes;
        MaxEntryBytes = Math.Min(maxEntryBytes, maxBytes);
        // Entries from an earlier run are not trusted to be within budget: start empty.
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        Directory.CreateDirectory(directory);
    }

    public long MaxEntryBytes { get; }

    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    /// <summary>Counters, for tests and metrics.</summary>
    public int Hits;

    public int Misses;

    public int CorruptDropped;

    /// <summary>The blob's bytes from the cache (verified) or from <paramref name="fetch"/> (verified, then cached).</summary>
    public async Task<Stream> OpenAsync(BlobDigest digest, Func<CancellationToken, Task<Stream>> fetch, CancellationToken cancellationToken)
    {
        var path = PathOf(digest.Hash);
        if (Touch(digest.Hash))
        {
            if (await VerifyAsync(path, digest, cancellationToken).ConfigureAwait(false))
            {
                Interlocked.Increment(ref Hits);
                Domain.BlobMetrics.CacheLookups.Add(1, new KeyValuePair<string, object?>("result", "hit"));
                return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
            }

            Interlocked.Increment(ref CorruptDropped);
            Domain.BlobMetrics.CacheLookups.Add(1, new KeyValuePair<string, object?>("result", "corrupt"));
            Remove(digest.Hash);
        }

        Interlocked.Increment(ref Misses);
        Domain.BlobMetrics.CacheLookups.Add(1, new KeyValuePair<string, object?>("result", "miss"));
        var temp = Path.Combine(_directory, $"{Guid.NewGuid():N}.tmp");
        try
        {
            BlobDigest fetched;
            await using (var source = await fetch(cancellationToken).ConfigureAwait(false))
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            await using (var hashing = new HashingWriteStream(file))
            {
                await source.CopyToAsync(hashing, cancellationToken).ConfigureAwait(false);
                fetched = hashing.Complete();
            }

            if (fetched != digest)
            {
                throw new AtRest.BlobCorruptException($"stored bytes of sha256:{digest.Hash} do not match their digest (got {fetched})");
            }

            File.Move(temp, path, overwrite: true);
            Add(digest.Hash, digest.Size);
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public void Remove(string hash)
    {
        lock (_gate)
        {
            if (_entries.Remove(hash, out var node))
            {
                _lru.Remove(node);
                _bytes -= node.Value.Size;
            }
        }

        File.Delete(PathOf(hash));
    }

    internal string PathOf(string hash) => Path.Combine(_directory, hash);

    private static async Task<bool> VerifyAsync(string path, BlobDigest digest, CancellationToken cancellationToken)
    {
        try
        {
            await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
            await using var hashing = new HashingWriteStream(null);
            await file.CopyToAsync(hashing, cancellationToken).ConfigureAwait(false);
            return hashing.Complete() == digest;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
    }

    private bool Touch(string hash)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(hash, out var node))
            {
                return false;
            }

            _lru.Remove(node);
            _lru.AddFirst(node);
            return true;
        }
    }

    private void Add(string hash, long size)
    {
        var evicted = new List<string>();
        lock (_gate)
        {
            if (_entries.Remove(hash, out var existing))
            {
                _lru.Remove(existing);
                _bytes -= existing.Value.Size;
            }

            _entries[hash] = _lru.AddFirst((hash, size));
            _bytes += size;
            while (_bytes > _maxBytes && _lru.Last is { } last && last.Value.Hash != hash)
            {
                _lru.RemoveLast();
                _entries.Remove(last.Value.Hash);
                _bytes -= last.Value.Size;
                evicted.Add(last.Value.Hash);
            }
        }

        foreach (var victim in evicted)
        {
            // Readers that opened the file keep reading it (FileShare.Delete).
            File.Delete(PathOf(victim));
        }
    }
}
