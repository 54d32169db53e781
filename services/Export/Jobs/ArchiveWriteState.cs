using System.Diagnostics;
using Microservices.ExportFormat;

namespace Microservices.Export.Jobs;

/// <summary>
/// One run of an export's writing: the part writer, the pipeline, the cursor and counts, the entries
/// and missing blobs so far (for the manifest). After each entry it moves the cursor on, hands a full
/// part to the pipeline, and reports progress.
/// </summary>
internal sealed class ArchiveWriteState(RunningJob job, ArchivePartWriter writer, PartPipeline parts, PartCheckpoint? last, IReadOnlyList<PartCheckpoint> done, int partSize)
{
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly long _bytesAtStart = last?.Tally.BytesDone ?? 0;
    private readonly long _itemsAtStart = last?.Tally.ItemsDone ?? 0;
    private List<string> _missingInPart = [];

    public RunningJob Job { get; } = job;

    public ArchivePartWriter Writer { get; } = writer;

    public PartPipeline Parts { get; } = parts;

    public ExportCursor Cursor { get; set; } = last?.Next ?? ExportCursor.Start;

    public ExportTally Tally { get; set; } = last?.Tally ?? ExportTally.Zero;

    public List<ManifestEntry> Entries { get; } = [.. done.SelectMany(c => c.Entries)];

    public List<string> Missing { get; } = [.. done.SelectMany(c => c.Missing ?? [])];

    public string Owner => Job.Record.Owner;

    public JobIdentity Identity => Job.Record.Identity;

    public void Write(string name, ReadOnlyMemory<byte> data, bool compress) => Entries.Add(Writer.WriteEntry(name, data, compress));

    public void RecordMissing(string hash)
    {
        Missing.Add(hash);
        _missingInPart.Add(hash);
    }

    /// <summary>After each entry (or skipped item): the cursor moves on, a full part goes to the pipeline, progress is reported.</summary>
    public async Task AfterEntryAsync(ExportCursor next, string phase, CancellationToken cancellationToken)
    {
        Cursor = next;
        if (Writer.PartLength >= ExportRunner.PartTarget(Parts.NextPartNumber, partSize))
        {
            await TakePartAsync(Writer.TakePart(), cancellationToken).ConfigureAwait(false);
        }

        var tally = Tally;
        await Job.ReportAsync(progress => progress with
        {
            Phase = phase,
            ItemsDone = tally.ItemsDone,
            BytesDone = tally.BytesDone,
            ArchiveBytes = Parts.UploadedBytes,
            PartsUploaded = Parts.Uploaded.Count,
            SecondsLeft = SecondsLeft(progress, tally),
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task TakePartAsync(ArchivePart part, CancellationToken cancellationToken)
    {
        var missing = _missingInPart;
        _missingInPart = [];
        await Parts.AddAsync(part, Cursor, Tally, missing, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>From the rate of this run and what is left of the totals counted up front (bytes, or items when there are no bytes).</summary>
    private double? SecondsLeft(JobProgress progress, ExportTally tally)
    {
        var elapsed = Stopwatch.GetElapsedTime(_started).TotalSeconds;
        var (done, total, now) = progress.BytesTotal > 0
            ? (tally.BytesDone - _bytesAtStart, progress.BytesTotal, tally.BytesDone)
            : (tally.ItemsDone - _itemsAtStart, progress.ItemsTotal, tally.ItemsDone);
        if (elapsed < 1 || done <= 0 || total <= 0)
        {
            return null;
        }

        return Math.Max(0, total - now) / (done / elapsed);
    }
}
