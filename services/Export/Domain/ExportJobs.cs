using System.Globalization;
using System.Runtime.CompilerServices;
using Microservices.Caching.Coordination;
using Microservices.Export.Extensions;
using Microservices.Export.Import;
using Microservices.Export.Jobs;
using Microservices.Export.Storage;

namespace Microservices.Export.Domain;

/// <summary>
/// What callers can do with exports and imports, for one owner at a time; knows nothing of gRPC.
/// Jobs run in the background on whichever replica takes their lease (<see cref="JobScheduler"/>).
/// </summary>
internal sealed class ExportJobs(
    IJobStore store,
    IArchiveStorage storage,
    ILeaseLockProvider leases,
    JobScheduler scheduler,
    JobFinisher finisher,
    ExportOptions options,
    ArchiveUrlPolicy urls,
    TimeProvider time)
{
    /// <summary>SigV4's limit on a presigned URL.</summary>
    public static readonly TimeSpan MaxUrlLifetime = TimeSpan.FromDays(7);

    private readonly OwnerWatchSlots _watches = new(options.MaxWatchesPerOwner);

    public async Task<JobRecord> StartExportAsync(string owner, ExportContents include, string? traceParent, CancellationToken cancellationToken)
    {
        await using var ownerLock = await AcquireOwnerLockAsync(owner, cancellationToken).ConfigureAwait(false);
        // At most one export is unfinished per owner (this lock), so it is among the newest.
        var recent = await store.ListAsync(owner, JobKind.Export, 0, 1, cancellationToken).ConfigureAwait(false);
        if (recent.FirstOrDefault(j => !j.State.IsFinished()) is { } unfinished)
        {
            return unfinished;
        }

        // Kept per owner when an export completes, so any number of failed or cancelled exports after
        // it (which do not use up the window: the owner got no archive from them) cannot hide it.
        if (await store.LastCompletedExportAsync(owner, cancellationToken).ConfigureAwait(false) is { } last && last.CreatedAt + options.Window > time.GetUtcNow())
        {
            var next = last.CreatedAt + options.Window;
            throw new ExportException(ExportErrorKind.ResourceExhausted,
                $"One export per {Describe(options.Window)}: the last one ({last.Id}) started at {last.CreatedAt:u}; the next is allowed at {next:u}.");
        }

        var id = NewId();
        var job = new JobRecord
        {
            Id = id,
            Kind = JobKind.Export,
            Owner = owner,
            CreatedAt = time.GetUtcNow(),
            Include = include.Normalized(),
            ObjectKey = ArchiveKeys.Export(owner, id),
            TraceParent = traceParent,
            Progress = new JobProgress { Phase = "queued" },
        };
        await store.CreateAsync(job, cancellationToken).ConfigureAwait(false);
        scheduler.Wake();
        return job;
    }

    public async Task<JobRecord> StartImportAsync(string owner, ImportSource source, bool dryRun, string? traceParent, CancellationToken cancellationToken)
    {
        switch (source.Kind)
        {
            case ImportSourceKind.Export:
                var export = await GetAsync(owner, JobKind.Export, source.Value, "export_id", cancellationToken).ConfigureAwait(false);
                RequireDownloadable(export);
                break;
            case ImportSourceKind.UploadedArchive:
                RequireId(source.Value, "archive_id");
                if (await storage.SizeAsync(ArchiveKeys.Upload(owner, source.Value), cancellationToken).ConfigureAwait(false) is null)
                {
                    throw new ExportException(ExportErrorKind.NotFound, $"No uploaded archive {source.Value}.");
                }

                break;
            case ImportSourceKind.Url:
                // Checked here for a clear answer now, and again when the job connects.
                await urls.CheckAsync(urls.Parse(source.Value), cancellationToken).ConfigureAwait(false);
                break;
        }

        var job = new JobRecord
        {
            Id = NewId(),
            Kind = JobKind.Import,
            Owner = owner,
            CreatedAt = time.GetUtcNow(),
            DryRun = dryRun,
            Source = source,
            TraceParent = traceParent,
            Progress = new JobProgress { Phase = "queued" },
        };
        await store.CreateAsync(job, cancellationToken).ConfigureAwait(false);
        scheduler.Wake();
        return job;
    }

    /// <summary>The owner's job; someone else's answers exactly as an unknown one.</summary>
    public async Task<JobRecord> GetAsync(string owner, JobKind kind, string id, string field, CancellationToken cancellationToken)
    {
        RequireId(id, field);
        var job = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        return job is not null && job.Owner == owner && job.Kind == kind
            ? job
            : throw new ExportException(ExportErrorKind.NotFound, $"No {kind.ToString().ToLowerInvariant()} {id}.");
    }

    public async Task<(IReadOnlyList<JobRecord> Jobs, string NextPageToken)> ListExportsAsync(string owner, int pageSize, string pageToken, CancellationToken cancellationToken)
    {
        if (pageSize < 0)
        {
            throw new ExportException(ExportErrorKind.InvalidArgument, "page_size must not be negative.");
        }

        var size = pageSize == 0 ? 20 : Math.Min(pageSize, 100);
        var skip = 0;
        if (pageToken.Length > 0 && (!int.TryParse(pageToken, NumberStyles.None, CultureInfo.InvariantCulture, out skip) || skip > 1_000_000))
        {
            throw new ExportException(ExportErrorKind.InvalidArgument, "page_token is not one this service returned.");
        }

        var jobs = await store.ListAsync(owner, JobKind.Export, skip, size + 1, cancellationToken).ConfigureAwait(false);
        return jobs.Count > size
            ? ([.. jobs.Take(size)], (skip + size).ToString(CultureInfo.InvariantCulture))
            : (jobs, "");
    }

    public async Task<JobRecord> CancelExportAsync(string owner, string id, CancellationToken cancellationToken)
    {
        var job = await GetAsync(owner, JobKind.Export, id, "export_id", cancellationToken).ConfigureAwait(false);
        if (job.State.IsFinished())
        {
            throw new ExportException(ExportErrorKind.FailedPrecondition, $"Export {id} is {Describe(job.State)}; only queued or running exports can be cancelled.");
        }

        await store.RequestCancelAsync(id, cancellationToken).ConfigureAwait(false);
        await using (var lease = await leases.TryAcquireAsync(JobScheduler.LeaseName(id), options.Lease, cancellationToken).ConfigureAwait(false))
        {
            if (lease is not null)
            {
                // Nobody runs it (queued, or its replica died): end it here.
                var fence = await store.ClaimAsync(id, cancellationToken).ConfigureAwait(false);
                var current = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
                if (current is not null && !current.State.IsFinished())
                {
                    await finisher.FinishAsync(new RunningJob(store, current, fence, time, options.ProgressInterval), JobState.Cancelled, null, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        // The runner sees the request within its progress interval; wait a little for it to be done.
        var deadline = time.GetUtcNow() + (options.ProgressInterval * 10);
        while (true)
        {
            job = await GetAsync(owner, JobKind.Export, id, "export_id", cancellationToken).ConfigureAwait(false);
            if (job.State.IsFinished() || time.GetUtcNow() > deadline)
            {
                return job;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), time, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<(string Url, DateTimeOffset ExpiresAt)> DownloadUrlAsync(string owner, string id, TimeSpan? lifetime, CancellationToken cancellationToken)
    {
        // The contract: expires_in unset or 0 => the default.
        var valid = lifetime is { } asked && asked != TimeSpan.Zero ? asked : options.DownloadUrlLifetime;
        if (valid <= TimeSpan.Zero || valid > MaxUrlLifetime)
        {
            throw new ExportException(ExportErrorKind.InvalidArgument, "expires_in must be more than 0 and at most 7 days (SigV4's limit).");
        }

        var job = await GetAsync(owner, JobKind.Export, id, "export_id", cancellationToken).ConfigureAwait(false);
        RequireDownloadable(job);
        var expiresAt = time.GetUtcNow() + valid;
        return (await storage.PresignGetAsync(job.ObjectKey, valid).ConfigureAwait(false), expiresAt);
    }

    public async Task<Stream> OpenDownloadAsync(string owner, string id, long offset, CancellationToken cancellationToken)
    {
        var job = await GetAsync(owner, JobKind.Export, id, "export_id", cancellationToken).ConfigureAwait(false);
        RequireDownloadable(job);
        if (offset < 0 || offset > job.Archive!.SizeBytes)
        {
            throw new ExportException(ExportErrorKind.InvalidArgument, $"offset must be between 0 and the archive's size ({job.Archive!.SizeBytes}).");
        }

        return offset == job.Archive.SizeBytes ? Stream.Null : await storage.OpenReadAsync(job.ObjectKey, offset, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The job now, then each change of state or progress, until it is finished.</summary>
    public async IAsyncEnumerable<JobRecord> WatchAsync(string owner, JobKind kind, string id, string field, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var slot = _watches.Acquire(owner);
        var job = await GetAsync(owner, kind, id, field, cancellationToken).ConfigureAwait(false);
        yield return job;
        while (!job.State.IsFinished())
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), time, cancellationToken).ConfigureAwait(false);
            var next = await GetAsync(owner, kind, id, field, cancellationToken).ConfigureAwait(false);
            if (next.State != job.State || next.Progress != job.Progress || next.Takeovers != job.Takeovers)
            {
                job = next;
                yield return job;
            }
        }
    }

    private static void RequireDownloadable(JobRecord job)
    {
        if (job.State != JobState.Completed)
        {
            var why = job.State == JobState.Expired ? $"it expired at {job.ExpiresAt:u} and its archive is deleted" : $"it is {Describe(job.State)}";
            throw new ExportException(ExportErrorKind.FailedPrecondition, $"Export {job.Id} cannot be downloaded: {why}.");
        }
    }

    private async Task<ILeaseLock> AcquireOwnerLockAsync(string owner, CancellationToken cancellationToken)
    {
        // Two StartExport calls at once for one owner: the second waits for the first and then finds its job.
        for (var attempt = 0; ; attempt++)
        {
            var held = await leases.TryAcquireAsync($"export-owner:{owner}", TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            if (held is not null)
            {
                return held;
            }

            if (attempt >= 100)
            {
                throw new ExportException(ExportErrorKind.Aborted, "Another StartExport for this owner is still being handled; try again.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken).ConfigureAwait(false);
        }
    }

    internal static string NewId() => Guid.NewGuid().ToString("N");

    private static void RequireId(string id, string field)
    {
        if (id.Length != 32 || !id.All(char.IsAsciiHexDigitLower))
        {
            throw new ExportException(ExportErrorKind.InvalidArgument, $"{field} must be 32 lowercase hex characters (an id this service returned).");
        }
    }

    private static string Describe(JobState state) => state.ToString().ToLowerInvariant();

    private static string Describe(TimeSpan window) => window switch
    {
        { TotalDays: >= 1 } when window.TotalDays % 1 == 0 => window.TotalDays == 1 ? "day" : $"{window.TotalDays:0} days",
        { TotalHours: >= 1 } when window.TotalHours % 1 == 0 => $"{window.TotalHours:0} h",
        _ => $"{window.TotalMinutes:0.#} min",
    };
}
