using System.Diagnostics;
using System.Text;
using Microservices.Export.Extensions;
using Microservices.Export.Signing;
using Microservices.Export.Sources;
using Microservices.Export.Storage;
using Microservices.Export.Telemetry;
using Microservices.ExportFormat;
using Microsoft.Extensions.Logging;

namespace Microservices.Export.Jobs;

/// <summary>
/// Writes one export: reads the owner's data in pages and batches, writes tar entries through
/// gzip into parts, uploads the parts as one S3 multipart upload, and checkpoints after each part,
/// so a replica that takes the job over starts after the last part in S3. Nothing touches local disk.
/// Order: models pages, references pages, then per blob page its metadata followed by its bytes
/// (one listing for both, so every blob with bytes in the archive is described), then the manifest.
/// </summary>
internal sealed class ExportRunner(
    IOwnerDataSource source,
    IArchiveStorage storage,
    BlobPageWriter blobPages,
    ExportSigningKey signingKey,
    ExportOptions options,
    ExportMetrics metrics,
    DependencyRetry retry,
    ILogger<ExportRunner> logger)
{
    /// <summary>Runs the export to its completed upload and records the archive's summary; the caller records the final state.</summary>
    public async Task RunAsync(RunningJob job, CancellationToken cancellationToken)
    {
        var checkpoints = await StartOrResumeAsync(job, cancellationToken).ConfigureAwait(false);
        if (job.Record.Progress.ItemsTotal == 0 && job.Record.Progress.BytesTotal == 0)
        {
            await CountAsync(job, cancellationToken).ConfigureAwait(false);
        }

        var last = checkpoints.Count > 0 ? checkpoints[^1] : null;
        await using var parts = new PartPipeline(storage, retry, metrics, job, job.Record.UploadId!, checkpoints, options.PartsInFlight);
        using var writer = new ArchivePartWriter(job.Record.CreatedAt);
        var state = new ArchiveWriteState(job, writer, parts, last, checkpoints, options.PartSize);

        while (state.Cursor.Phase < ExportPhase.Manifest)
        {
            await WriteStepAsync(state, cancellationToken).ConfigureAwait(false);
        }

        if (state.Cursor.Phase == ExportPhase.Manifest)
        {
            Phase("manifest");
            WriteManifest(state);
            state.Cursor = state.Cursor.NextPhase();
            await state.TakePartAsync(writer.Finish(), cancellationToken).ConfigureAwait(false);
        }

        await parts.DrainAsync(cancellationToken).ConfigureAwait(false);
        Phase("completing");
        await job.ReportAsync(progress => progress with { Phase = "completing", PartsUploaded = parts.Uploaded.Count, ArchiveBytes = parts.UploadedBytes }, cancellationToken, force: true).ConfigureAwait(false);
        await CompleteUploadAsync(job, parts, cancellationToken).ConfigureAwait(false);
        var manifest = state.Entries.Last(e => e.Name == ArchiveLayout.ManifestName);
        var tally = state.Tally;
        await job.SaveAsync(job.Record with
        {
            Progress = job.Record.Progress with { ItemsDone = tally.ItemsDone, BytesDone = tally.BytesDone, ArchiveBytes = parts.UploadedBytes, PartsUploaded = parts.Uploaded.Count },
            Archive = new ArchiveSummary(parts.UploadedBytes, state.Entries.Count, tally.Models, tally.Blobs, tally.References, manifest.Sha256, signingKey.KeyId),
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A new upload (and no checkpoints), or the checkpoints of the upload this job already has.</summary>
    private async Task<IReadOnlyList<PartCheckpoint>> StartOrResumeAsync(RunningJob job, CancellationToken cancellationToken)
    {
        if (job.Record.UploadId is null)
        {
            await job.DeleteCheckpointsAsync(cancellationToken).ConfigureAwait(false);
            var uploadId = await retry.ExecuteAsync("s3", async ct => await storage.StartUploadAsync(job.Record.ObjectKey, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            await job.SaveAsync(job.Record with { UploadId = uploadId }, cancellationToken).ConfigureAwait(false);
            return [];
        }

        var checkpoints = await job.Store.CheckpointsAsync(job.Record.Id, cancellationToken).ConfigureAwait(false);
        if (checkpoints.Count > 0)
        {
            logger.LogInformation("Resuming export {JobId} after part {Part}", job.Record.Id, checkpoints.Count);
            Activity.Current?.AddEvent(new ActivityEvent("resumed", tags: new ActivityTagsCollection { ["export.part"] = checkpoints.Count }));
            await job.SaveAsync(job.Record with { ResumedAfterPart = checkpoints.Count }, cancellationToken).ConfigureAwait(false);
        }

        return checkpoints;
    }

    /// <summary>
    /// Completes the multipart upload. If S3 completed it but the answer was lost (or a replica
    /// completed it and died before recording so), S3 no longer knows the upload: then the object
    /// itself, of the size of every part, is the proof.
    /// </summary>
    private async Task CompleteUploadAsync(RunningJob job, PartPipeline parts, CancellationToken cancellationToken)
    {
        try
        {
            await retry.ExecuteAsync("s3", async ct => await storage.CompleteUploadAsync(job.Record.ObjectKey, job.Record.UploadId!, parts.Uploaded, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (Amazon.S3.AmazonS3Exception)
        {
            var size = await retry.ExecuteAsync("s3", async ct => await storage.SizeAsync(job.Record.ObjectKey, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            if (size != parts.UploadedBytes)
            {
                throw;
            }

            logger.LogInformation("Export {JobId}'s upload was already completed", job.Record.Id);
        }
    }

    private async Task CountAsync(RunningJob job, CancellationToken cancellationToken)
    {
        Phase("counting");
        var include = job.Record.Include.Normalized();
        var totals = await source.CountAsync(job.Record.Identity, cancellationToken).ConfigureAwait(false);
        var items = (include.Models ? totals.Models : 0) + (include.Blobs ? totals.Blobs : 0);
        await job.SaveAsync(job.Record with
        {
            Progress = job.Record.Progress with { Phase = "counting", ItemsTotal = items, BytesTotal = include.Blobs ? totals.BlobBytes : 0 },
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the next page's worth of entries of the current phase (or skips a phase that is over or not included).</summary>
    private async Task WriteStepAsync(ArchiveWriteState state, CancellationToken cancellationToken)
    {
        var include = state.Job.Record.Include.Normalized();
        var cursor = state.Cursor;
        if (cursor.PagesDone && cursor.PendingBlobs.Count == 0)
        {
            state.Cursor = cursor.NextPhase();
            return;
        }

        switch (cursor.Phase)
        {
            case ExportPhase.Models when include.Models:
                PhaseStarts(cursor, "models");
                var models = await source.ModelsAsync(state.Identity, cursor.PageToken, cancellationToken).ConfigureAwait(false);
                state.Tally = state.Tally with { Models = state.Tally.Models + models.Lines.Count, ItemsDone = state.Tally.ItemsDone + models.Lines.Count };
                WriteLines(state, ArchiveLayout.ModelsPage(cursor.FileNumber), models.Lines);
                metrics.Items("model", models.Lines.Count);
                await state.AfterEntryAsync(cursor.AfterPage(models.NextPageToken), "models", cancellationToken).ConfigureAwait(false);
                break;
            case ExportPhase.References when include.References:
                PhaseStarts(cursor, "references");
                var references = await source.ReferencesAsync(state.Identity, cursor.PageToken, cancellationToken).ConfigureAwait(false);
                state.Tally = state.Tally with { References = state.Tally.References + references.Lines.Count };
                WriteLines(state, ArchiveLayout.ReferencesPage(cursor.FileNumber), references.Lines);
                metrics.Items("reference", references.Lines.Count);
                await state.AfterEntryAsync(cursor.AfterPage(references.NextPageToken), "references", cancellationToken).ConfigureAwait(false);
                break;
            case ExportPhase.Blobs when include.Blobs:
                if (cursor.PendingBlobs.Count == 0)
                {
                    PhaseStarts(cursor, "blob_data");
                    var page = await source.BlobsAsync(state.Identity, cursor.PageToken, cancellationToken).ConfigureAwait(false);
                    state.Tally = state.Tally with { Blobs = state.Tally.Blobs + page.Lines.Count };
                    WriteLines(state, ArchiveLayout.BlobsPage(cursor.FileNumber), page.Lines);
                    await state.AfterEntryAsync(cursor.AfterPage(page.NextPageToken) with { PendingBlobs = page.Blobs, Chunk = 0 }, "blob_data", cancellationToken).ConfigureAwait(false);
                }

                await blobPages.WritePendingAsync(state, cancellationToken).ConfigureAwait(false);
                break;
            default:
                state.Cursor = cursor.NextPhase();
                break;
        }
    }

    private static void WriteLines(ArchiveWriteState state, string name, IReadOnlyList<string> lines)
    {
        if (lines.Count > 0)
        {
            state.Write(name, Encoding.UTF8.GetBytes(string.Concat(lines.Select(line => line + "\n"))), compress: true);
        }
    }

    private void WriteManifest(ArchiveWriteState state)
    {
        var record = state.Job.Record;
        var tally = state.Tally;
        var manifest = new ArchiveManifest
        {
            ExportId = record.Id,
            Owner = record.Owner,
            Installation = options.Installation,
            CreatedAt = record.CreatedAt,
            SigningKeyId = signingKey.KeyId,
            Counts = new ArchiveCounts(tally.Models, tally.Blobs, tally.References, tally.BlobBytes),
            Entries = [.. state.Entries],
            MissingBlobs = [.. state.Missing.Distinct(StringComparer.Ordinal)],
        };
        var json = manifest.ToJsonBytes();
        state.Write(ArchiveLayout.ManifestName, json, compress: true);
        state.Write(ArchiveLayout.SignatureName, signingKey.Sign(json).ToJsonBytes(), compress: true);
    }

    /// <summary>A span event when a phase begins (not again for its later pages).</summary>
    private static void PhaseStarts(ExportCursor cursor, string phase)
    {
        if (cursor.FileNumber == 1)
        {
            Phase(phase);
        }
    }

    private static void Phase(string phase) => Activity.Current?.AddEvent(new ActivityEvent($"phase {phase}"));

    /// <summary>
    /// Part target: <see cref="ExportOptions.PartSize"/> for parts 1-1000, doubled for each next 1000,
    /// at most S3's 5 GiB: with 8 MiB, 10,000 parts hold about 8 TiB, more than S3's 5 TiB object limit.
    /// </summary>
    internal static long PartTarget(int partNumber, int partSize) =>
        Math.Min(5L * 1024 * 1024 * 1024, (long)partSize << Math.Min(10, (partNumber - 1) / 1000));
}
