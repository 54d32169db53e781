using System.Diagnostics;
using Microservices.Export.Storage;
using Microservices.Export.Telemetry;
using Microservices.ExportFormat;

namespace Microservices.Export.Jobs;

/// <summary>
/// Uploads finished parts with at most <c>inFlight</c> at once, and checkpoints them strictly in
/// order once each is in S3, so the last checkpoint always describes a gapless prefix of the
/// archive. Memory is bounded by the parts in flight plus the one being filled.
/// </summary>
internal sealed class PartPipeline(
    IArchiveStorage storage,
    DependencyRetry retry,
    ExportMetrics metrics,
    RunningJob job,
    string uploadId,
    IReadOnlyList<PartCheckpoint> done,
    int inFlight) : IAsyncDisposable
{
    private readonly Queue<Pending> _pending = new();
    private readonly List<(int PartNumber, string ETag)> _uploaded = [.. done.Select(c => (c.PartNumber, c.ETag))];

    public int NextPartNumber { get; private set; } = done.Count + 1;

    public long UploadedBytes { get; private set; } = done.Sum(c => c.PartBytes);

    public IReadOnlyList<(int PartNumber, string ETag)> Uploaded => _uploaded;

    /// <summary>Starts the part's upload; first waits for (and checkpoints) the oldest part when too many are in flight.</summary>
    public async Task AddAsync(ArchivePart part, ExportCursor next, ExportTally tally, IReadOnlyList<string> missing, CancellationToken cancellationToken)
    {
        if (_pending.Count >= inFlight)
        {
            await CheckpointOldestAsync(cancellationToken).ConfigureAwait(false);
        }

        var number = NextPartNumber++;
        _pending.Enqueue(new Pending(number, part, UploadAsync(number, part, cancellationToken), next, tally, missing));
    }

    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        while (_pending.Count > 0)
        {
            await CheckpointOldestAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<string> UploadAsync(int number, ArchivePart part, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var etag = await retry.ExecuteAsync("s3", async ct =>
        {
            using var content = part.OpenRead();
            return await storage.UploadPartAsync(job.Record.ObjectKey, uploadId, number, content, part.Length, ct).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        metrics.PartUploaded(Stopwatch.GetElapsedTime(started));
        metrics.ArchiveBytes(part.Length);
        return etag;
    }

    private async Task CheckpointOldestAsync(CancellationToken cancellationToken)
    {
        var oldest = _pending.Dequeue();
        using var part = oldest.Part;
        var etag = await oldest.Upload.ConfigureAwait(false);
        var checkpoint = new PartCheckpoint(oldest.Number, etag, part.Length, part.Entries, oldest.Next, oldest.Tally, oldest.Missing);
        if (!await job.Store.AppendCheckpointAsync(job.Record.Id, job.Fence, checkpoint, cancellationToken).ConfigureAwait(false))
        {
            throw new JobLeaseLostException(job.Record.Id);
        }

        _uploaded.Add((oldest.Number, etag));
        UploadedBytes += part.Length;
    }

    /// <summary>After a failure: lets uploads still running finish (their errors no longer matter) and frees their buffers.</summary>
    public async ValueTask DisposeAsync()
    {
        while (_pending.TryDequeue(out var pending))
        {
            try
            {
                await pending.Upload.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The job is already failing, cancelled or taken over; the upload will be aborted.
            }

            pending.Part.Dispose();
        }
    }

    private sealed record Pending(int Number, ArchivePart Part, Task<string> Upload, ExportCursor Next, ExportTally Tally, IReadOnlyList<string> Missing);
}
