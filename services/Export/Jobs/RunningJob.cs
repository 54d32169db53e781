namespace Microservices.Export.Jobs;

/// <summary>The job was claimed by another replica (this one lost its lease): stop without writing anything more.</summary>
internal sealed class JobLeaseLostException(string jobId) : Exception($"Job {jobId} was taken over by another replica.");

/// <summary>Someone cancelled the job.</summary>
internal sealed class JobCancelledException(string jobId) : Exception($"Job {jobId} was cancelled.");

/// <summary>
/// A job this replica holds the lease of: its current record and fence, fenced saves, and
/// progress written (and cancellation looked for) at most every <c>progressInterval</c>.
/// </summary>
internal sealed class RunningJob(IJobStore store, JobRecord record, long fence, TimeProvider time, TimeSpan progressInterval)
{
    private long _lastReport = time.GetTimestamp();

    public JobRecord Record { get; private set; } = record;

    public long Fence { get; } = fence;

    public IJobStore Store { get; } = store;

    public async Task SaveAsync(JobRecord updated, CancellationToken cancellationToken)
    {
        if (!await Store.SaveAsync(updated, Fence, cancellationToken).ConfigureAwait(false))
        {
            throw new JobLeaseLostException(updated.Id);
        }

        Record = updated;
    }

    /// <summary>Drops the job's checkpoints, unless another replica claimed the job since.</summary>
    public async Task DeleteCheckpointsAsync(CancellationToken cancellationToken)
    {
        if (!await Store.DeleteCheckpointsAsync(Record.Id, Fence, cancellationToken).ConfigureAwait(false))
        {
            throw new JobLeaseLostException(Record.Id);
        }
    }

    /// <summary>Saves the progress when it is time (or <paramref name="force"/>), and stops the job if it was cancelled.</summary>
    public async Task ReportAsync(Func<JobProgress, JobProgress> update, CancellationToken cancellationToken, bool force = false)
    {
        if (!force && time.GetElapsedTime(_lastReport) < progressInterval)
        {
            return;
        }

        _lastReport = time.GetTimestamp();
        if (await Store.IsCancelRequestedAsync(Record.Id, cancellationToken).ConfigureAwait(false))
        {
            throw new JobCancelledException(Record.Id);
        }

        await SaveAsync(Record with { Progress = update(Record.Progress) }, cancellationToken).ConfigureAwait(false);
    }
}
