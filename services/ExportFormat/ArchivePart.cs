namespace Microservices.ExportFormat;

/// <summary>
/// One finished slice of the archive: whole gzip members holding whole tar entries, so an upload
/// can stop after any part and a new writer can carry on with the next entry.
/// </summary>
/// <param name="Entries">The entries this part holds, in order (for the manifest and checkpoints).</param>
public sealed class ArchivePart : IDisposable
{
    private readonly SegmentedBuffer _bytes;

    internal ArchivePart(SegmentedBuffer bytes, IReadOnlyList<ManifestEntry> entries)
    {
        _bytes = bytes;
        Entries = entries;
    }

    public IReadOnlyList<ManifestEntry> Entries { get; }

    public long Length => _bytes.Length;

    /// <summary>A seekable read-only view from the start; each call is independent, so an upload can be retried.</summary>
    public Stream OpenRead() => _bytes.OpenRead();

    /// <summary>Gives the part's memory back (to a pool the next parts draw from).</summary>
    public void Dispose() => _bytes.Dispose();
}
