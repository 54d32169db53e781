using Microservices.Blob.AtRest;
using Microservices.Blob.Caching;
using Microservices.Blob.Digests;
using Microservices.Blob.Index;
using Microservices.Blob.Storage;

namespace Microservices.Blob.Domain;

/// <summary>
/// The blob domain: content-addressed put/read with verification, owner scoping, references and
/// garbage collection, over a storage backend and the index. Knows nothing of transport.
/// </summary>
internal sealed class BlobStore(
    IBlobStorage storage,
    IBlobIndex index,
    AtRestCodec codec,
    BlobMetadataCache metadata,
    LocalBlobCache? cache,
    StagingArea staging,
    TimeProvider time,
    TimeSpan gracePeriod,
    long ownerQuotaBytes = 0)
{
    public StagingArea Staging => staging;

    public sealed record PutResult(BlobRecord Blob, long StoredBytes);

    public async Task<IReadOnlyList<BlobDigest>> FindMissingAsync(string owner, IReadOnlyList<BlobDigest> digests, CancellationToken cancellationToken)
    {
        BlobLimits.Check(digests.Count, BlobLimits.FindMissingDigests, "digests");
        var owned = await index.OwnedAsync(owner, digests.Select(d => d.Hash).Distinct().ToList(), cancellationToken).ConfigureAwait(false);
        return digests.Where(d => !owned.TryGetValue(d.Hash, out var size) || size != d.Size).Distinct().ToList();
    }

    /// <summary>Stores <paramref name="content"/> after checking it against <paramref name="digest"/>.</summary>
    public async Task<PutResult> PutAsync(string owner, BlobDigest digest, Stream content, bool sensitive, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        var staged = staging.NewPath();
        try
        {
            BlobDigest actual;
            await using (var file = new FileStream(staged, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            await using (var hashing = new HashingWriteStream(file))
            {
                await content.CopyToAsync(hashing, cancellationToken).ConfigureAwait(false);
                actual = hashing.Complete();
            }

            Verify(digest, actual);
            return await CommitAsync(owner, digest, staged, sensitive, labels, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(staged);
        }
    }

    /// <summary>
    /// RESOURCE_EXHAUSTED when <paramref name="owner"/> holding <paramref name="size"/> more bytes
    /// would go over Blob:Limits:OwnerQuotaBytes (0: no quota). An early refusal, before any bytes
    /// are received or stored; the index checks again where the blob is recorded, so concurrent
    /// puts that all pass here cannot pass the quota together.
    /// </summary>
    public async Task CheckQuotaAsync(string owner, long size, CancellationToken cancellationToken)
    {
        if (ownerQuotaBytes <= 0)
        {
            return;
        }

        var usage = await index.UsageAsync(owner, cancellationToken).ConfigureAwait(false);
        if (usage + size > ownerQuotaBytes)
        {
            throw OverQuota(owner, usage, size);
        }
    }

    private BlobException OverQuota(string owner, long usage, long size) => new(BlobErrorKind.ResourceExhausted,
        $"storage quota: {owner} holds {usage} bytes, this blob adds {size}, over Blob:Limits:OwnerQuotaBytes ({ownerQuotaBytes})");

    /// <summary>A size mismatch or a hash mismatch rejects the bytes; nothing of them is kept.</summary>
    public static void Verify(BlobDigest expected, BlobDigest actual)
    {
        if (actual.Size != expected.Size)
        {
            throw BlobException.Invalid($"size mismatch: digest says {expected.Size} bytes, {actual.Size} were sent");
        }

        if (actual.Hash != expected.Hash)
        {
            throw BlobException.Invalid($"digest mismatch: the bytes hash to sha256 {actual.Hash}, the digest says {expected.Hash}");
        }
    }

    /// <summary>
    /// Makes an already verified staged file the owner's blob. The bytes are stored once per
    /// object key; a second owner of the same (non-sensitive) bytes only gets an index row.
    /// </summary>
    public async Task<PutResult> CommitAsync(string owner, BlobDigest digest, string stagedPath, bool sensitive, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        var existing = await index.GetBlobAsync(owner, digest.Hash, cancellationToken).ConfigureAwait(false);
        if (existing is not null)
        {
            BlobMetrics.DedupHits.Add(1);
            return new PutResult(existing, 0);
        }

        await CheckQuotaAsync(owner, digest.Size, cancellationToken).ConfigureAwait(false);
        var key = sensitive ? StorageKey.Encrypted(digest, owner) : StorageKey.Shared(digest);
        var held = await index.Locks.AcquireAsync(key, cancellationToken).ConfigureAwait(false);
        await using (held.ConfigureAwait(false))
        {
            var stored = await index.GetObjectAsync(key, cancellationToken).ConfigureAwait(false);
            if (stored is null || !await storage.ExistsAsync(key, cancellationToken).ConfigureAwait(false))
            {
                var encoded = await EncodeAsync(stagedPath, digest, sensitive, cancellationToken).ConfigureAwait(false);
                try
                {
                    await storage.PutFileAsync(key, encoded.Path, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    File.Delete(encoded.Path);
                }

                BlobMetrics.StoredBytes.Add(digest.Size);
                stored = new StoredObject(key, digest, encoded.StoredSize, encoded.Media.MediaType, encoded.Media.Width, encoded.Media.Height,
                    encoded.Compression, encoded.KeyId, time.GetUtcNow());
            }

            else
            {
                BlobMetrics.DedupHits.Add(1);
            }

            if (await index.AddBlobAsync(owner, stored, sensitive, labels, ownerQuotaBytes, time.GetUtcNow(), cancellationToken).ConfigureAwait(false) is { } usage)
            {
                // Another put of the owner's took the room since the early check; the stored bytes are left for collection.
                throw OverQuota(owner, usage, digest.Size);
            }
        }

        await metadata.InvalidateAsync(owner, digest.Hash, cancellationToken).ConfigureAwait(false);
        var record = await index.GetBlobAsync(owner, digest.Hash, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException("blob row vanished right after it was written");
        return new PutResult(record, digest.Size);
    }

    public async Task<BlobRecord> StatAsync(string owner, BlobDigest digest, CancellationToken cancellationToken)
    {
        var record = await metadata.GetAsync(owner, digest.Hash, token => index.GetBlobAsync(owner, digest.Hash, token), cancellationToken).ConfigureAwait(false);
        return record is not null && record.Digest.Size == digest.Size
            ? record
            : throw BlobException.NotFound($"blob sha256:{digest.Hash} (size {digest.Size}) not found");
    }

    /// <summary>The blob's original bytes (decrypted, decompressed); the caller disposes the stream.</summary>
    public async Task<(BlobRecord Blob, Stream Content)> OpenReadAsync(string owner, BlobDigest digest, CancellationToken cancellationToken)
    {
        var record = await StatAsync(owner, digest, cancellationToken).ConfigureAwait(false);
        var stored = record.Object;
        try
        {
            var content = cache is not null && !stored.Encrypted && digest.Size <= cache.MaxEntryBytes
                ? await cache.OpenAsync(digest, token => OpenDecodedAsync(stored, token), cancellationToken).ConfigureAwait(false)
                : await OpenDecodedAsync(stored, cancellationToken).ConfigureAwait(false);
            return (record, content);
        }
        catch (BlobKeyException error)
        {
            throw BlobException.Precondition(error.Message);
        }
        catch (BlobCorruptException error)
        {
            throw new BlobException(BlobErrorKind.DataLoss, error.Message);
        }
    }

    /// <summary>
    /// A non-sensitive blob by digest alone, whoever owns it (the gateway's anonymous mode).
    /// Sensitive blobs are stored under per-owner keys and are never found this way.
    /// </summary>
    public async Task<(StoredObject Object, Stream Content)> OpenSharedAsync(string hash, CancellationToken cancellationToken)
    {
        var stored = await index.GetObjectAsync(StorageKey.Shared(new BlobDigest(hash, 0)), cancellationToken).ConfigureAwait(false)
            ?? throw BlobException.NotFound($"blob sha256:{hash} not found");
        try
        {
            var content = cache is not null && stored.Digest.Size <= cache.MaxEntryBytes
                ? await cache.OpenAsync(stored.Digest, token => OpenDecodedAsync(stored, token), cancellationToken).ConfigureAwait(false)
                : await OpenDecodedAsync(stored, cancellationToken).ConfigureAwait(false);
            return (stored, content);
        }
        catch (BlobCorruptException error)
        {
            throw new BlobException(BlobErrorKind.DataLoss, error.Message);
        }
    }

    public async Task<int> AddReferencesAsync(string owner, IReadOnlyList<(string TraceId, string EventId, BlobDigest Digest)> references, CancellationToken cancellationToken)
    {
        BlobLimits.Check(references.Count, BlobLimits.References, "references");
        var hashes = references.Select(r => r.Digest.Hash).Distinct().ToList();
        var owned = await index.OwnedAsync(owner, hashes, cancellationToken).ConfigureAwait(false);
        foreach (var (_, _, digest) in references)
        {
            if (!owned.TryGetValue(digest.Hash, out var size) || size != digest.Size)
            {
                throw BlobException.NotFound($"blob sha256:{digest.Hash} (size {digest.Size}) not found: upload it before referencing it");
            }
        }

        try
        {
            var added = await index.AddReferencesAsync(owner, references, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            await InvalidateAsync(owner, hashes, cancellationToken).ConfigureAwait(false);
            return added;
        }
        catch (KeyNotFoundException error)
        {
            // Collected between the check above and the index's claim of it.
            await InvalidateAsync(owner, hashes, cancellationToken).ConfigureAwait(false);
            throw BlobException.NotFound(error.Message);
        }
    }

    public async Task<int> RemoveReferencesAsync(string owner, IReadOnlyList<(string TraceId, string EventId, BlobDigest Digest)> references, CancellationToken cancellationToken)
    {
        BlobLimits.Check(references.Count, BlobLimits.References, "references");
        var removed = await index.RemoveReferencesAsync(owner, references, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        await InvalidateAsync(owner, references.Select(r => r.Digest.Hash).Distinct(), cancellationToken).ConfigureAwait(false);
        return removed;
    }

    public async Task<ReferencePage> ListReferencesAsync(string owner, string? traceId, string? hash, int pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(hash) && !BlobDigest.IsValidHash(hash))
        {
            throw BlobException.Invalid($"digest_hash must be exactly 64 lowercase hex characters, got '{BlobDigest.Shorten(hash)}'");
        }

        if (pageSize < 0 || pageSize > BlobLimits.MaxPageSize)
        {
            throw BlobException.Invalid($"page_size must be 0..{BlobLimits.MaxPageSize} (0: {BlobLimits.DefaultPageSize}), got {pageSize}");
        }

        try
        {
            return await index.ListReferencesAsync(owner, NullIfEmpty(traceId), NullIfEmpty(hash), pageSize == 0 ? BlobLimits.DefaultPageSize : pageSize, NullIfEmpty(pageToken), cancellationToken).ConfigureAwait(false);
        }
        catch (FormatException error)
        {
            throw BlobException.Invalid(error.Message);
        }
    }

    /// <summary>
    /// A page of the owner's blobs in hash order. Totals come with the first page only (no token),
    /// so a client paging through pays for the count once.
    /// </summary>
    public async Task<BlobPage> ListBlobsAsync(string owner, int pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        if (pageSize < 0)
        {
            throw BlobException.Invalid($"page_size must not be negative (0: {BlobLimits.DefaultPageSize}; above {BlobLimits.MaxPageSize} is served as {BlobLimits.MaxPageSize}), got {pageSize}");
        }

        var size = pageSize == 0 ? BlobLimits.DefaultPageSize : Math.Min(pageSize, BlobLimits.MaxPageSize);
        var token = NullIfEmpty(pageToken);
        try
        {
            return await index.ListBlobsAsync(owner, size, token, withTotals: token is null, cancellationToken).ConfigureAwait(false);
        }
        catch (FormatException error)
        {
            throw BlobException.Invalid(error.Message);
        }
    }

    /// <summary>
    /// Deletes blobs unreferenced for longer than the grace period; returns how many stored objects
    /// went. Returns 0 at once while another holder of the index (another replica) runs a round:
    /// rounds never overlap, so two collectors never race over the same orphans.
    /// </summary>
    public async Task<int> CollectGarbageAsync(CancellationToken cancellationToken)
    {
        var round = await index.Locks.TryAcquireCollectorAsync(cancellationToken).ConfigureAwait(false);
        if (round is null)
        {
            return 0;
        }

        await using (round.ConfigureAwait(false))
        {
            return await CollectRoundAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<int> CollectRoundAsync(CancellationToken cancellationToken)
    {
        var (collected, orphans) = await index.CollectAsync(time.GetUtcNow() - gracePeriod, cancellationToken).ConfigureAwait(false);
        foreach (var (owner, hash) in collected)
        {
            await metadata.InvalidateAsync(owner, hash, cancellationToken).ConfigureAwait(false);
        }

        var deleted = 0;
        foreach (var key in orphans)
        {
            var held = await index.Locks.AcquireAsync(key, cancellationToken).ConfigureAwait(false);
            await using (held.ConfigureAwait(false))
            {
                if (await index.DeleteObjectIfUnusedAsync(key, cancellationToken).ConfigureAwait(false))
                {
                    await storage.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
                    cache?.Remove(key.Split('/')[^1].Split('.')[0]);
                    deleted++;
                    BlobMetrics.Collected.Add(1);
                }
            }
        }

        return deleted;
    }

    private async Task<Stream> OpenDecodedAsync(StoredObject stored, CancellationToken cancellationToken)
    {
        var raw = await storage.OpenReadAsync(stored.Key, cancellationToken).ConfigureAwait(false)
            ?? throw new BlobException(BlobErrorKind.DataLoss, $"the stored bytes of sha256:{stored.Digest.Hash} are missing from {storage.Kind} storage");
        try
        {
            return await codec.DecodeAsync(raw, stored, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await raw.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task<AtRestCodec.Encoded> EncodeAsync(string stagedPath, BlobDigest digest, bool sensitive, CancellationToken cancellationToken)
    {
        try
        {
            var encoded = await codec.EncodeAsync(stagedPath, digest, sensitive, cancellationToken).ConfigureAwait(false);
            if (encoded.Path == stagedPath)
            {
                // Stored as is: hand storage a name of its own (it consumes the file), the staged one stays ours.
                var own = staging.NewPath(".store");
                File.Move(stagedPath, own);
                return encoded with { Path = own };
            }

            return encoded;
        }
        catch (BlobKeyException error)
        {
            throw BlobException.Precondition(error.Message);
        }
    }

    private async Task InvalidateAsync(string owner, IEnumerable<string> hashes, CancellationToken cancellationToken)
    {
        foreach (var hash in hashes)
        {
            await metadata.InvalidateAsync(owner, hash, cancellationToken).ConfigureAwait(false);
        }
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
