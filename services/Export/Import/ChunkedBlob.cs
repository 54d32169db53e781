using Microservices.ExportFormat;

namespace Microservices.Export.Import;

/// <summary>
/// The blob whose chunks an import is reading: the archive must hold them in order, one blob after
/// another, each chunk but the last full, summing to the size its metadata gives. The verifier checks
/// each entry's bytes against the manifest, not this; an upload fed out of order would be corrupt.
/// </summary>
internal sealed class ChunkedBlob
{
    private readonly ImportBlob _blob;
    private readonly int _count;
    private int _next;
    private long _bytes;

    private ChunkedBlob(ImportBlob blob)
    {
        _blob = blob;
        _count = ArchiveLayout.ChunkCount(blob.Size);
    }

    /// <summary>Where this blob's bytes go; null when they are not uploaded (present, or a dry run).</summary>
    public IBlobUpload? Upload { get; set; }

    /// <summary>The last accepted chunk was the blob's last.</summary>
    public bool Complete => _next == _count;

    /// <summary>
    /// Checks that <paramref name="entry"/> (chunk <paramref name="chunk"/> of <paramref name="blob"/>) comes next;
    /// returns the chunked blob it belongs to, or null for a blob held in one entry.
    /// </summary>
    /// <param name="current">The chunked blob read so far and not complete, or null.</param>
    public static ChunkedBlob? Accept(ChunkedBlob? current, ImportBlob blob, int chunk, ArchiveEntryData entry)
    {
        if (current is not null && current._blob.Hash != blob.Hash)
        {
            throw current.Incomplete($"entry '{entry.Name}' starts another blob");
        }

        if (ArchiveLayout.ChunkCount(blob.Size) == 1)
        {
            return chunk == 0 && entry.Size == blob.Size
                ? null
                : throw Rejected(entry, $"holds {entry.Size} bytes as chunk {chunk} of blob sha256:{blob.Hash}, which its metadata says is {blob.Size} bytes in one entry");
        }

        var next = current ?? new ChunkedBlob(blob);
        if (chunk != next._next)
        {
            throw Rejected(entry, $"is chunk {chunk} of blob sha256:{blob.Hash}, but chunk {next._next} is the next one");
        }

        var last = chunk == next._count - 1;
        var expected = last ? blob.Size - next._bytes : ArchiveLayout.DataChunkSize;
        if (entry.Size != expected)
        {
            throw Rejected(entry, $"holds {entry.Size} bytes; chunk {chunk} of {next._count} of blob sha256:{blob.Hash} ({blob.Size} bytes by its metadata) holds {expected}");
        }

        next._next++;
        next._bytes += entry.Size;
        return next;
    }

    public ArchiveRejectedException Incomplete(string what) => new(
        ArchiveRejection.BadManifest,
        $"{what} while blob sha256:{_blob.Hash} is incomplete: {_next} of its {_count} chunks were read",
        ArchiveLayout.Data(_blob.Hash, _blob.Size, _next));

    private static ArchiveRejectedException Rejected(ArchiveEntryData entry, string problem) =>
        new(ArchiveRejection.BadManifest, $"entry '{entry.Name}' {problem}", entry.Name);
}
