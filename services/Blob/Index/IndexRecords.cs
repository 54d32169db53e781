using Microservices.Blob.Digests;

namespace Microservices.Blob.Index;

internal enum StoredCompression
{
    None = 1,
    Brotli = 2,
}

/// <summary>One stored object: the bytes of a digest, as kept at rest (shared, or one owner's encrypted copy).</summary>
internal sealed record StoredObject(
    string Key,
    BlobDigest Digest,
    long StoredSize,
    string MediaType,
    int Width,
    int Height,
    StoredCompression Compression,
    string? KeyId,
    DateTimeOffset CreatedAt)
{
    public bool Encrypted => KeyId is not null;
}

/// <summary>An owner's blob: the owner's view of a stored object.</summary>
internal sealed record BlobRecord(
    string Owner,
    StoredObject Object,
    bool Sensitive,
    IReadOnlyDictionary<string, string> Labels,
    DateTimeOffset CreatedAt,
    int ReferenceCount)
{
    public BlobDigest Digest => Object.Digest;
}

internal sealed record BlobReferenceRecord(string TraceId, string EventId, BlobDigest Digest, DateTimeOffset CreatedAt);

internal sealed record UploadRecord(string UploadId, string Owner, BlobDigest Digest, bool Sensitive, IReadOnlyDictionary<string, string> Labels, DateTimeOffset CreatedAt);

internal sealed record ReferencePage(IReadOnlyList<BlobReferenceRecord> References, string? NextPageToken);

/// <summary>All of an owner's blobs: how many, and their original bytes.</summary>
internal sealed record BlobTotals(long Count, long SizeBytes);

/// <summary>A page of an owner's blobs in hash order; totals only when they were asked for.</summary>
internal sealed record BlobPage(IReadOnlyList<BlobRecord> Blobs, string? NextPageToken, BlobTotals? Totals);
