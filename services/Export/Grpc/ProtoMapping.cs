using Google.Protobuf.WellKnownTypes;
using Microservices.Export.Jobs;
using V1 = Microservices.Export.V1;

namespace Microservices.Export.Grpc;

/// <summary>Domain job records to and from the contract's messages.</summary>
internal static class ProtoMapping
{
    public static V1.ExportJob ToExportProto(this JobRecord job) => new()
    {
        ExportId = job.Id,
        Owner = job.Owner,
        State = job.State.ToProto(),
        Include = new V1.ExportContents { Models = job.Include.Models, Blobs = job.Include.Blobs, References = job.Include.References },
        Progress = job.Progress.ToProto(),
        Error = job.Error?.ToProto(),
        CreatedAt = Timestamp.FromDateTimeOffset(job.CreatedAt),
        StartedAt = job.StartedAt is { } started ? Timestamp.FromDateTimeOffset(started) : null,
        FinishedAt = job.FinishedAt is { } finished ? Timestamp.FromDateTimeOffset(finished) : null,
        ExpiresAt = job.ExpiresAt is { } expires ? Timestamp.FromDateTimeOffset(expires) : null,
        Archive = job.Archive is { } archive ? new V1.ArchiveInfo
        {
            SizeBytes = archive.SizeBytes,
            EntryCount = archive.EntryCount,
            Models = archive.Models,
            Blobs = archive.Blobs,
            References = archive.References,
            ManifestSha256 = archive.ManifestSha256,
            SigningKeyId = archive.SigningKeyId,
        } : null,
        Takeovers = job.Takeovers,
        ResumedAfterPart = job.ResumedAfterPart,
        Duration = job.DurationSeconds is { } seconds ? Duration.FromTimeSpan(TimeSpan.FromSeconds(seconds)) : null,
        PeakMemoryBytes = job.PeakMemoryBytes ?? 0,
    };

    public static V1.ImportJob ToImportProto(this JobRecord job)
    {
        var proto = new V1.ImportJob
        {
            ImportId = job.Id,
            Owner = job.Owner,
            State = job.State.ToProto(),
            DryRun = job.DryRun,
            Progress = job.Progress.ToProto(),
            Error = job.Error?.ToProto(),
            CreatedAt = Timestamp.FromDateTimeOffset(job.CreatedAt),
            StartedAt = job.StartedAt is { } started ? Timestamp.FromDateTimeOffset(started) : null,
            FinishedAt = job.FinishedAt is { } finished ? Timestamp.FromDateTimeOffset(finished) : null,
            Duration = job.DurationSeconds is { } seconds ? Duration.FromTimeSpan(TimeSpan.FromSeconds(seconds)) : null,
            PeakMemoryBytes = job.PeakMemoryBytes ?? 0,
            Takeovers = job.Takeovers,
        };
        if (job.Report is { } report)
        {
            proto.Report = new V1.ImportReport
            {
                SignatureVerified = report.SignatureVerified,
                SigningKeyId = report.SigningKeyId,
                OriginInstallation = report.OriginInstallation,
                OriginOwner = report.OriginOwner,
                Models = report.Models,
                Blobs = report.Blobs,
                References = report.References,
                ModelsImported = report.ModelsImported,
                ModelsUnchanged = report.ModelsUnchanged,
                BlobsUploaded = report.BlobsUploaded,
                BlobsPresent = report.BlobsPresent,
                ReferencesAdded = report.ReferencesAdded,
                ConflictCount = report.ConflictCount,
            };
            proto.Report.Conflicts.AddRange(report.Conflicts.Select(c => new V1.ImportConflict
            {
                ModelId = c.ModelId,
                Alias = c.Alias,
                Kind = System.Enum.TryParse<V1.ConflictKind>(c.Kind, out var kind) ? kind : V1.ConflictKind.Unspecified,
                Message = c.Message,
            }));
        }

        return proto;
    }

    public static ExportContents ToDomain(this V1.ExportContents? include) =>
        include is null ? ExportContents.Everything : new ExportContents(include.Models, include.Blobs, include.References).Normalized();

    private static V1.Progress ToProto(this JobProgress progress) => new()
    {
        Phase = progress.Phase,
        ItemsDone = progress.ItemsDone,
        ItemsTotal = progress.ItemsTotal,
        BytesDone = progress.BytesDone,
        BytesTotal = progress.BytesTotal,
        ArchiveBytes = progress.ArchiveBytes,
        PartsUploaded = progress.PartsUploaded,
        EstimatedTimeLeft = progress.SecondsLeft is { } left ? Duration.FromTimeSpan(TimeSpan.FromSeconds(Math.Round(left))) : null,
    };

    private static V1.JobError ToProto(this JobError error) => new() { Code = error.Code, Message = error.Message };

    private static V1.JobState ToProto(this JobState state) => state switch
    {
        JobState.Queued => V1.JobState.Queued,
        JobState.Running => V1.JobState.Running,
        JobState.Completed => V1.JobState.Completed,
        JobState.Failed => V1.JobState.Failed,
        JobState.Cancelled => V1.JobState.Cancelled,
        JobState.Expired => V1.JobState.Expired,
        _ => V1.JobState.Unspecified,
    };
}
