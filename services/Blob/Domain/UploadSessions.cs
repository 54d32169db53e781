using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microservices.Blob.Digests;
using Microservices.Blob.Index;

namespace Microservices.Blob.Domain;

/// <summary>
/// Resumable uploads of large blobs (Bazel ByteStream Write, committed offsets). Bytes go to
/// &lt;uploads&gt;/&lt;id&gt;.part as they arrive; the committed offset is the file's length, so a
/// broken connection or a restart loses nothing that was acknowledged. The blob becomes
/// visible only after the whole file hashes to the digest.
/// </summary>
internal sealed class UploadSessions
{
    private readonly BlobStore _store;
    private readonly IBlobIndex _index;
    private readonly TimeProvider _time;
    private readonly string _directory;
    private readonly ConcurrentDictionary<string, HashProgress> _hashes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _active = new(StringComparer.Ordinal);

    private readonly int _maxOpenPerOwner;

    public UploadSessions(BlobStore store, IBlobIndex index, TimeProvider time, string directory, int maxOpenPerOwner = 100)
    {
        _maxOpenPerOwner = maxOpenPerOwner;
        _store = store;
        _index = index;
        _time = time;
        _directory = directory;
        Directory.CreateDirectory(directory);
    }

    public sealed record UploadState(string UploadId, BlobDigest Digest, long Committed, bool Complete, bool AlreadyExists, BlobRecord? Blob);

    public async Task<UploadState> StartAsync(string owner, BlobDigest digest, bool sensitive, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        var existing = await _index.GetBlobAsync(owner, digest.Hash, cancellationToken).ConfigureAwait(false);
        if (existing is not null && existing.Digest.Size == digest.Size)
        {
            return new UploadState("", digest, digest.Size, Complete: true, AlreadyExists: true, existing);
        }

        // Early, so a large upload the owner could never commit is refused before any byte is sent.
        await _store.CheckQuotaAsync(owner, digest.Size, cancellationToken).ConfigureAwait(false);
        var open = (await _index.UploadIdsAsync(owner, cancellationToken).ConfigureAwait(false)).Count(id => File.Exists(PartPath(id)));
        if (open >= _maxOpenPerOwner)
        {
            throw new BlobException(BlobErrorKind.ResourceExhausted,
                $"{owner} has {open} unfinished uploads, the most Blob:Limits:MaxOpenUploadsPerOwner allows; finish one or let it expire (Blob:Gc:UploadExpiry)");
        }

        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        await File.WriteAllBytesAsync(PartPath(id), [], cancellationToken).ConfigureAwait(false);
        await _index.AddUploadAsync(new UploadRecord(id, owner, digest, sensitive, labels, _time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        return new UploadState(id, digest, 0, false, false, null);
    }

    public async Task<UploadState> QueryAsync(string owner, string uploadId, CancellationToken cancellationToken)
    {
        var upload = await FindAsync(owner, uploadId, cancellationToken).ConfigureAwait(false);
        return await StateAsync(upload, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Opens the upload for one writer; a second concurrent writer is refused.</summary>
    public async Task<UploadWriter> OpenWriterAsync(string owner, string uploadId, CancellationToken cancellationToken)
    {
        var upload = await FindAsync(owner, uploadId, cancellationToken).ConfigureAwait(false);
        if (!_active.TryAdd(uploadId, 0))
        {
            throw BlobException.Precondition($"upload {uploadId} is being written by another call; wait for it or QueryUpload");
        }

        try
        {
            var path = PartPath(uploadId);
            if (!File.Exists(path))
            {
                throw await _index.GetBlobAsync(owner, upload.Digest.Hash, cancellationToken).ConfigureAwait(false) is not null
                    ? BlobException.Precondition($"upload {uploadId} is already complete")
                    : NotOnThisReplica(uploadId);
            }

            var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, 0, FileOptions.Asynchronous);
            file.Seek(0, SeekOrigin.End);
            var hash = await HashUpToAsync(uploadId, path, file.Length, cancellationToken).ConfigureAwait(false);
            return new UploadWriter(this, upload, file, hash);
        }
        catch
        {
            _active.TryRemove(uploadId, out _);
            throw;
        }
    }

    /// <summary>
    /// Discards uploads created more than <paramref name="expiry"/> ago, however recently they
    /// were written to (a trickle of bytes must not keep one alive): the part file, the kept hash
    /// and the row. Part files without a row (a crash between the two) go by their age.
    /// </summary>
    public async Task<int> ExpireAsync(TimeSpan expiry, CancellationToken cancellationToken)
    {
        var removed = 0;
        foreach (var id in await _index.UploadsCreatedBeforeAsync(_time.GetUtcNow() - expiry, cancellationToken).ConfigureAwait(false))
        {
            if (_active.ContainsKey(id))
            {
                continue;
            }

            var part = Path.Combine(_directory, id + ".part");
            if (File.Exists(part))
            {
                File.Delete(part);
                removed++;
            }

            _hashes.TryRemove(id, out _);
            await _index.DeleteUploadAsync(id, cancellationToken).ConfigureAwait(false);
        }

        return removed + ExpireOrphanParts(expiry);
    }

    private int ExpireOrphanParts(TimeSpan expiry)
    {
        var removed = 0;
        foreach (var part in Directory.EnumerateFiles(_directory, "*.part"))
        {
            if (_time.GetUtcNow() - File.GetLastWriteTimeUtc(part) > expiry && !_active.ContainsKey(Path.GetFileNameWithoutExtension(part)))
            {
                File.Delete(part);
                removed++;
            }
        }

        return removed;
    }

    internal string PartPath(string uploadId) => Path.Combine(_directory, Validation.UploadId(uploadId) + ".part");

    private async Task<UploadRecord> FindAsync(string owner, string uploadId, CancellationToken cancellationToken) =>
        await _index.GetUploadAsync(owner, Validation.UploadId(uploadId), cancellationToken).ConfigureAwait(false)
        ?? throw BlobException.NotFound($"upload {uploadId} not found");

    private async Task<UploadState> StateAsync(UploadRecord upload, CancellationToken cancellationToken)
    {
        var path = PartPath(upload.UploadId);
        if (File.Exists(path))
        {
            return new UploadState(upload.UploadId, upload.Digest, new FileInfo(path).Length, false, false, null);
        }

        var blob = await _index.GetBlobAsync(upload.Owner, upload.Digest.Hash, cancellationToken).ConfigureAwait(false);
        return blob is not null
            ? new UploadState(upload.UploadId, upload.Digest, upload.Digest.Size, true, false, blob)
            : throw NotOnThisReplica(upload.UploadId);
    }

    /// <summary>
    /// The upload's row is in the (possibly shared) index but its committed bytes are not on this
    /// disk: with several replicas they are on the replica that started it. Refused rather than
    /// restarted from zero here, which would fork one upload into two.
    /// </summary>
    private static BlobException NotOnThisReplica(string uploadId) => BlobException.Precondition(
        $"upload {uploadId} has no committed bytes on this instance: its parts are kept by the instance that started it (send the upload's calls there), or they expired; StartUpload again to begin anew");

    /// <summary>The hash of the first <paramref name="length"/> bytes: kept from the last call, or recomputed from the file.</summary>
    private async Task<HashProgress> HashUpToAsync(string uploadId, string path, long length, CancellationToken cancellationToken)
    {
        if (_hashes.TryGetValue(uploadId, out var kept) && kept.Length == length)
        {
            return kept;
        }

        var progress = new HashProgress();
        await using (var read = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan))
        {
            var buffer = new byte[1 << 20];
            int n;
            while (progress.Length < length && (n = await read.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, length - progress.Length)), cancellationToken).ConfigureAwait(false)) > 0)
            {
                progress.Append(buffer.AsSpan(0, n));
            }
        }

        _hashes[uploadId] = progress;
        return progress;
    }

    internal sealed class HashProgress
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public long Length { get; private set; }

        public void Append(ReadOnlySpan<byte> data)
        {
            _hash.AppendData(data);
            Length += data.Length;
        }

        public BlobDigest Current() => BlobDigest.FromHashBytes(_hash.GetCurrentHash(), Length);
    }

    /// <summary>One call's writes to an upload: append at the committed offset, then finish.</summary>
    internal sealed class UploadWriter(UploadSessions sessions, UploadRecord upload, FileStream file, HashProgress hash) : IAsyncDisposable
    {
        public UploadRecord Upload => upload;

        public long Committed => file.Length;

        public async Task AppendAsync(long writeOffset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            if (writeOffset != file.Length)
            {
                throw BlobException.Precondition($"write_offset {writeOffset} does not match the committed offset {file.Length}; resume from {file.Length} (QueryUpload)");
            }

            if (file.Length + data.Length > upload.Digest.Size)
            {
                throw BlobException.Invalid($"size mismatch: {file.Length + data.Length} bytes sent, the digest says {upload.Digest.Size}");
            }

            await file.WriteAsync(data, cancellationToken).ConfigureAwait(false);
            hash.Append(data.Span);
        }

        /// <summary>
        /// At the end of the call: if every byte is in, verify and publish the blob (or discard the
        /// upload on a mismatch); otherwise keep what was committed for a resume.
        /// </summary>
        public async Task<UploadState> CompleteAsync(bool finishRequested, CancellationToken cancellationToken)
        {
            await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            var length = file.Length;
            if (length < upload.Digest.Size)
            {
                return finishRequested
                    ? throw BlobException.Invalid($"size mismatch: finish after {length} bytes, the digest says {upload.Digest.Size}; the {length} bytes stay committed")
                    : new UploadState(upload.UploadId, upload.Digest, length, false, false, null);
            }

            await file.DisposeAsync().ConfigureAwait(false);
            var path = sessions.PartPath(upload.UploadId);
            sessions._hashes.TryRemove(upload.UploadId, out _);
            try
            {
                BlobStore.Verify(upload.Digest, hash.Current());
            }
            catch (BlobException)
            {
                // Wrong bytes can never become right by resuming: discard the whole upload.
                File.Delete(path);
                await sessions._index.DeleteUploadAsync(upload.UploadId, CancellationToken.None).ConfigureAwait(false);
                throw;
            }

            var result = await sessions._store.CommitAsync(upload.Owner, upload.Digest, path, upload.Sensitive, upload.Labels, cancellationToken).ConfigureAwait(false);
            File.Delete(path);
            return new UploadState(upload.UploadId, upload.Digest, upload.Digest.Size, true, false, result.Blob);
        }

        public async ValueTask DisposeAsync()
        {
            await file.DisposeAsync().ConfigureAwait(false);
            sessions._active.TryRemove(upload.UploadId, out _);
        }
    }
}
