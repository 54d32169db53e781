namespace Microservices.Export.Jobs;

/// <summary>
/// Durable job state shared by every replica. A replica that won a job's lease calls
/// <see cref="ClaimAsync"/> and gets a fence; every later write of that job carries the fence and
/// is refused once someone else has claimed the job, so a replica that lost its lease (paused,
/// partitioned) can never overwrite its successor's state.
/// </summary>
internal interface IJobStore
{
    /// <summary>Stores a new queued job and makes it visible to every replica's scheduler.</summary>
    Task CreateAsync(JobRecord job, CancellationToken cancellationToken);

    Task<JobRecord?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>The jobs of these ids that exist, in one round trip.</summary>
    Task<IReadOnlyList<JobRecord>> GetManyAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken);

    /// <summary>The owner's jobs of one kind, newest first.</summary>
    Task<IReadOnlyList<JobRecord>> ListAsync(string owner, JobKind kind, int skip, int take, CancellationToken cancellationToken);

    /// <summary>When the owner's newest export that completed was created (it still counts once expired), for the window between exports.</summary>
    Task<(string Id, DateTimeOffset CreatedAt)?> LastCompletedExportAsync(string owner, CancellationToken cancellationToken);

    /// <summary>Ids of jobs not yet finished (queued, or running on some replica).</summary>
    Task<IReadOnlyList<string>> ActiveAsync(CancellationToken cancellationToken);

    /// <summary>Ids of completed exports whose archives expire at or before <paramref name="now"/>.</summary>
    Task<IReadOnlyList<string>> ExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Makes the caller the job's only writer; returns its fence.</summary>
    Task<long> ClaimAsync(string id, CancellationToken cancellationToken);

    /// <summary>Writes the job if <paramref name="fence"/> is still current; false when another replica claimed it since.</summary>
    Task<bool> SaveAsync(JobRecord job, long fence, CancellationToken cancellationToken);

    /// <summary>Takes a finished (or vanished) job off the unfinished set (fenced).</summary>
    Task ForgetAsync(string id, JobRecord? finished, long fence, CancellationToken cancellationToken);

    /// <summary>Appends the next part's checkpoint (fenced; refused unless it is exactly the next part).</summary>
    Task<bool> AppendCheckpointAsync(string id, long fence, PartCheckpoint checkpoint, CancellationToken cancellationToken);

    /// <summary>Every checkpoint, in part order.</summary>
    Task<IReadOnlyList<PartCheckpoint>> CheckpointsAsync(string id, CancellationToken cancellationToken);

    /// <summary>Drops the checkpoints (fenced); false when another replica claimed the job since.</summary>
    Task<bool> DeleteCheckpointsAsync(string id, long fence, CancellationToken cancellationToken);

    /// <summary>Asks whoever runs the job to stop; seen by <see cref="IsCancelRequestedAsync"/> on any replica.</summary>
    Task RequestCancelAsync(string id, CancellationToken cancellationToken);

    Task<bool> IsCancelRequestedAsync(string id, CancellationToken cancellationToken);
}
