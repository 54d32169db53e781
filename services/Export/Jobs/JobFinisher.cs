using System.Diagnostics;
using Microservices.Export.Extensions;
using Microservices.Export.Storage;
using Microsoft.Extensions.Logging;

namespace Microservices.Export.Jobs;

/// <summary>
/// Ends a job the caller holds, the one place a job gets its final state: records it (with when a
/// completed export's archive expires, the duration and peak memory), then aborts the upload of an
/// export that did not complete and drops the checkpoints.
/// </summary>
internal sealed class JobFinisher(IArchiveStorage storage, ExportOptions options, TimeProvider time, ILogger<JobFinisher> logger)
{
    public async Task FinishAsync(RunningJob job, JobState state, JobError? error, CancellationToken cancellationToken)
    {
        var record = job.Record;
        var now = time.GetUtcNow();

        // The fenced write first: a replica that lost the job (paused past its lease) is refused here,
        // before it could abort the upload or drop the checkpoints its successor is writing to. An
        // upload left behind when this replica stops right after is an orphan the sweeper aborts.
        await job.SaveAsync(record with
        {
            State = state,
            Error = error ?? record.Error,
            FinishedAt = record.FinishedAt ?? now,
            ExpiresAt = state == JobState.Completed && record.Kind == JobKind.Export ? now + options.Lifetime : record.ExpiresAt,
            DurationSeconds = record.StartedAt is { } started ? (now - started).TotalSeconds : 0,
            PeakMemoryBytes = PeakMemory(),
            Progress = record.Progress with { Phase = state.ToString().ToLowerInvariant(), SecondsLeft = state == JobState.Completed ? 0 : null },
        }, cancellationToken).ConfigureAwait(false);

        if (state != JobState.Completed && record.Kind == JobKind.Export && record.UploadId is { } uploadId)
        {
            try
            {
                if (!await storage.AbortUploadAsync(record.ObjectKey, uploadId, cancellationToken).ConfigureAwait(false))
                {
                    logger.LogWarning("The S3 server cannot abort upload {UploadId} of {JobId}; a bucket lifecycle rule must remove it", uploadId, record.Id);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The sweeper (or the bucket's lifecycle rule) aborts it later.
                logger.LogWarning(ex, "Could not abort upload {UploadId} of {JobId}", uploadId, record.Id);
            }
        }

        await job.DeleteCheckpointsAsync(cancellationToken).ConfigureAwait(false);
    }

    private static long PeakMemory()
    {
        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64;
    }
}
