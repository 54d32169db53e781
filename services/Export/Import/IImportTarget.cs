namespace Microservices.Export.Import;

internal sealed record ModelImportResult(bool Committed, long Imported, long Unchanged, IReadOnlyList<Jobs.ImportConflictRecord> Conflicts, int ConflictCount);

/// <summary>A blob as the archive describes it: its digest, and how the blob service should keep it.</summary>
internal sealed record ImportBlob(string Hash, long Size, bool Sensitive, IReadOnlyDictionary<string, string> Labels);

/// <summary>An upload of one large blob, fed chunk by chunk in order.</summary>
internal interface IBlobUpload
{
    Task WriteAsync(long offset, ReadOnlyMemory<byte> chunk, bool last, CancellationToken cancellationToken);
}

/// <summary>
/// Where an import writes: the registry (all models in one transaction, or a dry run) and the
/// blob service (bytes the owner lacks, then references), each call a batch.
/// </summary>
internal interface IImportTarget
{
    /// <summary>Sends every page of model JSON lines into one ImportModels call; committed only if nothing conflicts and not a dry run.</summary>
    Task<ModelImportResult> ImportModelsAsync(Jobs.JobIdentity job, bool dryRun, IAsyncEnumerable<IReadOnlyList<string>> pages, CancellationToken cancellationToken);

    /// <summary>The hashes among <paramref name="blobs"/> the owner does not hold.</summary>
    Task<IReadOnlySet<string>> FindMissingAsync(Jobs.JobIdentity job, IReadOnlyList<ImportBlob> blobs, CancellationToken cancellationToken);

    /// <summary>Uploads small blobs in one BatchUpload (at most <see cref="BatchUploadBytes"/> in total).</summary>
    Task UploadAsync(Jobs.JobIdentity job, IReadOnlyList<(ImportBlob Blob, ReadOnlyMemory<byte> Data)> blobs, CancellationToken cancellationToken);

    /// <summary>Opens a resumable upload; null when the owner already has the blob.</summary>
    Task<IBlobUpload?> StartUploadAsync(Jobs.JobIdentity job, ImportBlob blob, CancellationToken cancellationToken);

    /// <summary>Adds references (JSON lines of the contract's Reference) in batches; returns how many were new.</summary>
    Task<long> AddReferencesAsync(Jobs.JobIdentity job, IReadOnlyList<string> references, CancellationToken cancellationToken);

    long BatchUploadBytes { get; }
}
