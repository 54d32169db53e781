using Microservices.Blob.Digests;

namespace Microservices.Blob.Index;

/// <summary>
/// What is known about stored bytes: objects, which owner has which digest, references, and
/// open uploads. Every owner-facing query takes the owner, so scoping cannot be forgotten.
/// </summary>
internal interface IBlobIndex
{
    Task InitializeAsync(CancellationToken cancellationToken);

    Task<StoredObject?> GetObjectAsync(string key, CancellationToken cancellationToken);

    Task<BlobRecord?> GetBlobAsync(string owner, string hash, CancellationToken cancellationToken);

    /// <summary>The hashes among <paramref name="hashes"/> the owner has, with their sizes.</summary>
    Task<IReadOnlyDictionary<string, long>> OwnedAsync(string owner, IReadOnlyCollection<string> hashes, CancellationToken cancellationToken);

    /// <summary>Records the object (if new) and the owner's blob (if new; the first upload's settings win).</summary>
    Task AddBlobAsync(string owner, StoredObject stored, bool sensitive, IReadOnlyDictionary<string, string> labels, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Adds references to blobs the owner has (the caller checked); returns how many were new.</summary>
    Task<int> AddReferencesAsync(string owner, IReadOnlyList<(string TraceId, string EventId, BlobDigest Digest)> references, DateTimeOffset now, CancellationToken cancellationToken);

    Task<int> RemoveReferencesAsync(string owner, IReadOnlyList<(string TraceId, string EventId, BlobDigest Digest)> references, DateTimeOffset now, CancellationToken cancellationToken);

    Task<ReferencePage> ListReferencesAsync(string owner, string? traceId, string? hash, int pageSize, string? pageToken, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes owners' blobs unreferenced since before <paramref name="cutoff"/>; returns the keys
    /// of objects no blob uses any more (candidates for <see cref="DeleteObjectIfUnusedAsync"/>).
    /// </summary>
    Task<(IReadOnlyList<(string Owner, string Hash)> Collected, IReadOnlyList<string> OrphanKeys)> CollectAsync(DateTimeOffset cutoff, CancellationToken cancellationToken);

    /// <summary>Deletes the object's row if still no blob uses it; true if the caller must delete the bytes.</summary>
    Task<bool> DeleteObjectIfUnusedAsync(string key, CancellationToken cancellationToken);

    Task AddUploadAsync(UploadRecord upload, CancellationToken cancellationToken);

    Task<UploadRecord?> GetUploadAsync(string owner, string uploadId, CancellationToken cancellationToken);

    Task DeleteUploadAsync(string uploadId, CancellationToken cancellationToken);
}
