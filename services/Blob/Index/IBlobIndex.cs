using Microservices.Blob.Digests;

namespace Microservices.Blob.Index;

/// <summary>
/// What is known about stored bytes: objects, which owner has which digest, references, and
/// open uploads. Every owner-facing query takes the owner, so scoping cannot be forgotten.
/// </summary>
internal interface IBlobIndex
{
    /// <summary>Locks as wide as this index is shared (in-process for one instance, across replicas for a shared index).</summary>
    IObjectLocks Locks { get; }

    Task InitializeAsync(CancellationToken cancellationToken);

    Task<StoredObject?> GetObjectAsync(string key, CancellationToken cancellationToken);

    Task<BlobRecord?> GetBlobAsync(string owner, string hash, CancellationToken cancellationToken);

    /// <summary>The original bytes of every blob the owner holds (what Blob:Limits:OwnerQuotaBytes counts).</summary>
    Task<long> UsageAsync(string owner, CancellationToken cancellationToken);

    /// <summary>The hashes among <paramref name="hashes"/> the owner has, with their sizes.</summary>
    Task<IReadOnlyDictionary<string, long>> OwnedAsync(string owner, IReadOnlyCollection<string> hashes, CancellationToken cancellationToken);

    /// <summary>
    /// Records the object (if new) and the owner's blob (if new; the first upload's settings win).
    /// With a quota (<paramref name="quotaBytes"/> over 0), a new blob that would take the owner's
    /// bytes over it is not recorded, checked in the same transaction as the write, so concurrent
    /// puts of one owner (on any replica) cannot pass it together. Returns null when the blob is
    /// the owner's, else the owner's usage that refused it; the object row stays, unclaimed, and
    /// the next collection removes it and its bytes.
    /// </summary>
    Task<long?> AddBlobAsync(string owner, StoredObject stored, bool sensitive, IReadOnlyDictionary<string, string> labels, long quotaBytes, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Adds references to blobs the owner has; returns how many were new. Each blob's row is
    /// claimed in the same transaction, so a collection cannot take a blob between the caller's
    /// check and the reference.
    /// </summary>
    /// <exception cref="KeyNotFoundException">A blob is gone (collected since the caller checked); nothing was added.</exception>
    Task<int> AddReferencesAsync(string owner, IReadOnlyList<(string TraceId, string EventId, BlobDigest Digest)> references, DateTimeOffset now, CancellationToken cancellationToken);

    Task<int> RemoveReferencesAsync(string owner, IReadOnlyList<(string TraceId, string EventId, BlobDigest Digest)> references, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>The owner's references (of a trace and/or a hash when given) in (trace id, event id, hash) order.</summary>
    /// <exception cref="FormatException">The token is not one this list returned for this owner and these filters.</exception>
    Task<ReferencePage> ListReferencesAsync(string owner, string? traceId, string? hash, int pageSize, string? pageToken, CancellationToken cancellationToken);

    /// <summary>
    /// The owner's blobs in hash order after the token's position, in one read; with
    /// <paramref name="withTotals"/> also the count and original size of all of them, from the same snapshot.
    /// </summary>
    /// <exception cref="FormatException">The token is not one this list returned for this owner.</exception>
    Task<BlobPage> ListBlobsAsync(string owner, int pageSize, string? pageToken, bool withTotals, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes owners' blobs unreferenced since before <paramref name="cutoff"/>; returns the keys
    /// of objects no blob uses any more (candidates for <see cref="DeleteObjectIfUnusedAsync"/>).
    /// </summary>
    Task<(IReadOnlyList<(string Owner, string Hash)> Collected, IReadOnlyList<string> OrphanKeys)> CollectAsync(DateTimeOffset cutoff, CancellationToken cancellationToken);

    /// <summary>Deletes the object's row if still no blob uses it; true if the caller must delete the bytes.</summary>
    Task<bool> DeleteObjectIfUnusedAsync(string key, CancellationToken cancellationToken);

    Task AddUploadAsync(UploadRecord upload, CancellationToken cancellationToken);

    Task<UploadRecord?> GetUploadAsync(string owner, string uploadId, CancellationToken cancellationToken);

    /// <summary>Ids of the owner's uploads (open or finished, until they expire).</summary>
    Task<IReadOnlyList<string>> UploadIdsAsync(string owner, CancellationToken cancellationToken);

    /// <summary>Ids of every upload created before <paramref name="cutoff"/>.</summary>
    Task<IReadOnlyList<string>> UploadsCreatedBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken);

    Task DeleteUploadAsync(string uploadId, CancellationToken cancellationToken);
}
