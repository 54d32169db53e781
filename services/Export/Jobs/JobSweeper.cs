using Microservices.Caching.Coordination;
using Microservices.Export.Extensions;
using Microservices.Export.Storage;
using Microsoft.Extensions.Logging;

namespace Microservices.Export.Jobs;

/// <summary>
/// Deletes archives past their lifetime (their jobs become expired) and aborts multipart uploads
/// no unfinished job owns. One replica at a time sweeps (a lease); each runs it every SweepInterval.
/// </summary>
internal sealed class JobSweeper(
    IJobStore store,
    IArchiveStorage storage,
    ILeaseLockProvider leases,
    ExportOptions options,
    TimeProvider time,
    ILogger<JobSweeper> logger)
{
    private long _lastSweep = long.MinValue;
    private bool _listingUnsupported;

    public async Task SweepIfDueAsync(CancellationToken cancellationToken)
    {
        if (_lastSweep != long.MinValue && time.GetElapsedTime(_lastSweep) < options.SweepInterval)
        {
            return;
        }

        _lastSweep = time.GetTimestamp();
        await using var lease = await leases.TryAcquireAsync("export-sweeper", options.SweepInterval, cancellationToken).ConfigureAwait(false);
        if (lease is null)
        {
            return;
        }

        await ExpireAsync(cancellationToken).ConfigureAwait(false);
        await DeleteOldUploadsAsync(cancellationToken).ConfigureAwait(false);
        await AbortOrphansAsync(cancellationToken).ConfigureAwait(false);
    }

    internal async Task ExpireAsync(CancellationToken cancellationToken)
    {
        foreach (var id in await store.ExpiredAsync(time.GetUtcNow(), cancellationToken).ConfigureAwait(false))
        {
            await using var lease = await leases.TryAcquireAsync(JobScheduler.LeaseName(id), options.Lease, cancellationToken).ConfigureAwait(false);
            if (lease is null)
            {
                continue;
            }

            var fence = await store.ClaimAsync(id, cancellationToken).ConfigureAwait(false);
            var record = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
            if (record is not { State: JobState.Completed })
            {
                continue;
            }

            await storage.DeleteAsync(record.ObjectKey, cancellationToken).ConfigureAwait(false);
            await store.SaveAsync(record with { State = JobState.Expired, Progress = record.Progress with { Phase = "expired" } }, fence, cancellationToken).ConfigureAwait(false);
            logger.LogInformation("Export {JobId} expired; its archive {Key} is deleted", id, record.ObjectKey);
        }
    }

    private async Task DeleteOldUploadsAsync(CancellationToken cancellationToken)
    {
        foreach (var key in await storage.ListOlderThanAsync(ArchiveKeys.ImportsPrefix, time.GetUtcNow() - options.Import.UploadLifetime, cancellationToken).ConfigureAwait(false))
        {
            logger.LogInformation("Deleting uploaded archive {Key}: older than Export:Import:UploadLifetime", key);
            await storage.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task AbortOrphansAsync(CancellationToken cancellationToken)
    {
        if (_listingUnsupported)
        {
            return;
        }

        IReadOnlyList<PendingUpload> uploads;
        try
        {
            uploads = await storage.ListUploadsAsync(ArchiveKeys.ExportsPrefix, cancellationToken).ConfigureAwait(false);
        }
        catch (NotSupportedException ex)
        {
            _listingUnsupported = true;
            logger.LogWarning("{Reason} Orphaned uploads are left to the bucket's lifecycle rule (services/Export/README.md)", ex.Message);
            return;
        }

        foreach (var upload in uploads.Where(u => time.GetUtcNow() - u.Initiated > options.OrphanUploadAge))
        {
            var record = ArchiveKeys.JobIdOf(upload.Key) is { } id ? await store.GetAsync(id, cancellationToken).ConfigureAwait(false) : null;
            if (record is { State: JobState.Queued or JobState.Running } && record.UploadId == upload.UploadId)
            {
                continue;
            }

            logger.LogInformation("Aborting orphaned upload {UploadId} of {Key}", upload.UploadId, upload.Key);
            await storage.AbortUploadAsync(upload.Key, upload.UploadId, cancellationToken).ConfigureAwait(false);
        }
    }
}
