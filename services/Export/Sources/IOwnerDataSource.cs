namespace Microservices.Export.Sources;

/// <summary>A page of JSON lines (one item each) and the token of the page after it ("" at the end).</summary>
internal sealed record LinesPage(IReadOnlyList<string> Lines, string NextPageToken);

/// <param name="Compressed">The blob service found its bytes worth compressing, so gzip may gain too.</param>
internal sealed record BlobItem(string Hash, long Size, bool Compressed);

internal sealed record BlobPage(IReadOnlyList<BlobItem> Blobs, IReadOnlyList<string> Lines, string NextPageToken);

/// <summary>What an owner holds, counted before the export starts (for progress and its estimate).</summary>
internal sealed record OwnerTotals(long Models, long Blobs, long BlobBytes);

/// <summary>
/// An owner's data, read in pages and batches (never per item, except the ranges of a blob too
/// large for a batch). The gRPC implementation reads registry and blob.
/// </summary>
internal interface IOwnerDataSource
{
    Task<OwnerTotals> CountAsync(Jobs.JobIdentity job, CancellationToken cancellationToken);

    Task<LinesPage> ModelsAsync(Jobs.JobIdentity job, string pageToken, CancellationToken cancellationToken);

    Task<BlobPage> BlobsAsync(Jobs.JobIdentity job, string pageToken, CancellationToken cancellationToken);

    Task<LinesPage> ReferencesAsync(Jobs.JobIdentity job, string pageToken, CancellationToken cancellationToken);

    /// <summary>
    /// The bytes of small blobs in one call (their sizes must add up to at most <see cref="BatchReadBytes"/>);
    /// a blob deleted meanwhile is absent from the result.
    /// </summary>
    Task<IReadOnlyDictionary<string, ReadOnlyMemory<byte>>> ReadBlobsAsync(Jobs.JobIdentity job, IReadOnlyList<BlobItem> blobs, CancellationToken cancellationToken);

    /// <summary><paramref name="length"/> bytes of a blob from <paramref name="offset"/>; null when the blob is gone.</summary>
    Task<ReadOnlyMemory<byte>?> ReadRangeAsync(Jobs.JobIdentity job, BlobItem blob, long offset, int length, CancellationToken cancellationToken);

    /// <summary>What one <see cref="ReadBlobsAsync"/> may return in total (the blob service's BatchRead limit).</summary>
    long BatchReadBytes { get; }
}
