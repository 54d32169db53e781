namespace Microservices.Export.Jobs;

internal enum JobKind
{
    Export,
    Import,
}

internal enum JobState
{
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
    Expired,
}

internal static class JobStates
{
    public static bool IsFinished(this JobState state) => state is not (JobState.Queued or JobState.Running);
}

/// <summary>What an export includes; all false means everything.</summary>
internal sealed record ExportContents(bool Models, bool Blobs, bool References)
{
    public static ExportContents Everything { get; } = new(true, true, true);

    public ExportContents Normalized() => Models || Blobs || References ? this : Everything;
}

internal sealed record JobProgress
{
    public string Phase { get; init; } = "";

    public long ItemsDone { get; init; }

    public long ItemsTotal { get; init; }

    public long BytesDone { get; init; }

    public long BytesTotal { get; init; }

    public long ArchiveBytes { get; init; }

    public int PartsUploaded { get; init; }

    public double? SecondsLeft { get; init; }
}

/// <param name="Code">A gRPC status code name, e.g. UNAVAILABLE.</param>
internal sealed record JobError(string Code, string Message);

internal sealed record ArchiveSummary(long SizeBytes, int EntryCount, long Models, long Blobs, long References, string ManifestSha256, string SigningKeyId);

/// <summary>Where an import reads its archive from.</summary>
internal enum ImportSourceKind
{
    UploadedArchive,
    Export,
    Url,
}

internal sealed record ImportSource(ImportSourceKind Kind, string Value);

internal sealed record ImportConflictRecord(string ModelId, string Alias, string Kind, string Message);

internal sealed record ImportReportRecord
{
    public bool SignatureVerified { get; init; }

    public string SigningKeyId { get; init; } = "";

    public string OriginInstallation { get; init; } = "";

    public string OriginOwner { get; init; } = "";

    public long Models { get; init; }

    public long Blobs { get; init; }

    public long References { get; init; }

    public long ModelsImported { get; init; }

    public long ModelsUnchanged { get; init; }

    public long BlobsUploaded { get; init; }

    public long BlobsPresent { get; init; }

    public long ReferencesAdded { get; init; }

    public IReadOnlyList<ImportConflictRecord> Conflicts { get; init; } = [];

    public int ConflictCount { get; init; }
}

/// <summary>
/// A job as stored (JSON in Redis) and shared by every replica. Only the replica holding the job's
/// lease changes it, and its writes are fenced by the job's generation (see <see cref="IJobStore"/>).
/// </summary>
internal sealed record JobRecord
{
    public required string Id { get; init; }

    public required JobKind Kind { get; init; }

    public required string Owner { get; init; }

    public JobState State { get; init; } = JobState.Queued;

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }

    public JobProgress Progress { get; init; } = new();

    public JobError? Error { get; init; }

    /// <summary>W3C traceparent of the call that started the job: its work continues that trace on any replica.</summary>
    public string? TraceParent { get; init; }

    public int Takeovers { get; init; }

    public int ResumedAfterPart { get; init; }

    public double? DurationSeconds { get; init; }

    public long? PeakMemoryBytes { get; init; }

    // Export only.
    public ExportContents Include { get; init; } = ExportContents.Everything;

    public string ObjectKey { get; init; } = "";

    public string? UploadId { get; init; }

    public ArchiveSummary? Archive { get; init; }

    // Import only.
    public bool DryRun { get; init; }

    public ImportSource? Source { get; init; }

    public ImportReportRecord? Report { get; init; }

    /// <summary>What the job's calls into registry and blob act as.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public JobIdentity Identity => new(Id, Kind, Owner);
}
