using Microservices.Export.Sources;
using Microservices.ExportFormat;

namespace Microservices.Export.Jobs;

/// <summary>
/// Where the archive stood once part <see cref="PartNumber"/> (and every part before it) was in S3:
/// the part's ETag, its entries and the blobs found missing while writing it (both for the
/// manifest), the counts so far, and the cursor of the next entry. A replica that takes the job
/// over carries on from the last checkpoint.
/// </summary>
internal sealed record PartCheckpoint(
    int PartNumber,
    string ETag,
    long PartBytes,
    IReadOnlyList<ManifestEntry> Entries,
    ExportCursor Next,
    ExportTally Tally,
    IReadOnlyList<string>? Missing = null);

/// <summary>Counts of what the archive holds so far.</summary>
internal sealed record ExportTally(long Models, long Blobs, long References, long BlobBytes, long ItemsDone, long BytesDone)
{
    public static ExportTally Zero { get; } = new(0, 0, 0, 0, 0, 0);
}

/// <summary>
/// The next thing to write. Phases run in order. <see cref="PageToken"/> fetches the phase's next
/// page and <see cref="FileNumber"/> numbers its next JSON-lines entry; <see cref="PagesDone"/> says
/// the last page was fetched. In the blob phase, <see cref="PendingBlobs"/> are the blobs of the
/// page already listed in the archive whose bytes are still to be written (the first from chunk
/// <see cref="Chunk"/>): kept here rather than fetched again, so a resume writes exactly the blobs the
/// metadata lists, even if the owner's blobs changed meanwhile.
/// </summary>
internal sealed record ExportCursor(ExportPhase Phase, string PageToken, int FileNumber, bool PagesDone, IReadOnlyList<BlobItem> PendingBlobs, int Chunk)
{
    public static ExportCursor Start { get; } = Begin(ExportPhase.Models);

    public static ExportCursor Begin(ExportPhase phase) => new(phase, "", 1, false, [], 0);

    public ExportCursor NextPhase() => Begin(Phase + 1);

    /// <summary>After a page of the phase was written.</summary>
    public ExportCursor AfterPage(string nextPageToken) => this with
    {
        PageToken = nextPageToken,
        FileNumber = FileNumber + 1,
        PagesDone = nextPageToken.Length == 0,
    };
}

internal enum ExportPhase
{
    Models,
    References,
    Blobs,
    Manifest,
    Done,
}
