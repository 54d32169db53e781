using System.Globalization;
using Microservices.Export.V1;
using Spectre.Console;

namespace Microservices.Export.Cli;

/// <summary>Watching a job to its end, and what a job looks like when shown.</summary>
internal static class JobViews
{
    /// <summary>Follows an export with a progress bar, then prints its final state. The exit code says how it ended.</summary>
    public static async Task<int> WatchExportAsync(CliContext cli, ExportCalls calls, string exportId, CancellationToken cancellationToken)
    {
        var last = await FollowAsync(cli, "export " + exportId, calls.WatchExportAsync(exportId, cancellationToken), job => job.Progress);
        ShowExport(cli.Output, last);
        return ExitCode(last.State);
    }

    public static async Task<int> WatchImportAsync(CliContext cli, ExportCalls calls, string importId, CancellationToken cancellationToken)
    {
        var last = await FollowAsync(cli, "import " + importId, calls.WatchImportAsync(importId, cancellationToken), job => job.Progress);
        ShowImport(cli.Output, last);
        return ExitCode(last.State);
    }

    /// <summary>0 for a job that completed (or completed and since expired); a job that did not is not a refused call.</summary>
    public static int ExitCode(JobState state) => state switch
    {
        JobState.Completed or JobState.Expired => ExitCodes.Ok,
        JobState.Failed => ExitCodes.JobFailed,
        JobState.Cancelled => ExitCodes.JobCancelled,
        _ => throw new InvalidOperationException($"the watch ended while the job was {Formatting.State(state)}; watch it again"),
    };

    public static void ShowExport(IAnsiConsole console, ExportJob job)
    {
        var grid = Grid();
        Row(grid, "export", job.ExportId);
        Row(grid, "owner", job.Owner);
        Row(grid, "state", Formatting.State(job.State));
        Row(grid, "contents", Formatting.Contents(job.Include));
        if (!Formatting.IsFinished(job.State))
        {
            Row(grid, "progress", Formatting.Describe(job.Progress));
        }

        Row(grid, "error", Formatting.Error(job.Error));
        Row(grid, "created", Formatting.Time(job.CreatedAt));
        Row(grid, "started", Formatting.Time(job.StartedAt));
        Row(grid, "finished", Formatting.Time(job.FinishedAt));
        Row(grid, "duration", Formatting.Span(job.Duration));
        Row(grid, "expires", Formatting.Time(job.ExpiresAt));
        if (job.Archive is { } archive)
        {
            Row(grid, "archive", string.Create(CultureInfo.InvariantCulture, $"{Formatting.Bytes(archive.SizeBytes)} ({archive.SizeBytes} bytes), {archive.EntryCount} entries"));
            Row(grid, "counts", string.Create(CultureInfo.InvariantCulture, $"{archive.Models} models, {archive.Blobs} blobs, {archive.References} references"));
            Row(grid, "manifest sha256", archive.ManifestSha256);
            Row(grid, "signing key", archive.SigningKeyId);
        }

        if (job.Takeovers > 0)
        {
            Row(grid, "takeovers", string.Create(CultureInfo.InvariantCulture, $"{job.Takeovers} (resumed after part {job.ResumedAfterPart})"));
        }

        if (job.PeakMemoryBytes > 0)
        {
            Row(grid, "peak memory", Formatting.Bytes(job.PeakMemoryBytes));
        }

        console.Write(grid);
    }

    public static void ShowImport(IAnsiConsole console, ImportJob job)
    {
        var grid = Grid();
        Row(grid, "import", job.ImportId);
        Row(grid, "state", Formatting.State(job.State) + (job.DryRun ? " (dry run: nothing written)" : ""));
        if (!Formatting.IsFinished(job.State))
        {
            Row(grid, "progress", Formatting.Describe(job.Progress));
        }

        Row(grid, "error", Formatting.Error(job.Error));
        Row(grid, "created", Formatting.Time(job.CreatedAt));
        Row(grid, "finished", Formatting.Time(job.FinishedAt));
        if (job.Report is { } report)
        {
            Row(grid, "origin", $"owner '{report.OriginOwner}' of installation '{report.OriginInstallation}'");
            Row(grid, "signature", report.SignatureVerified ? $"verified (key {report.SigningKeyId})" : $"not verified (key {(report.SigningKeyId.Length == 0 ? "none" : report.SigningKeyId)})");
            Row(grid, "archive", string.Create(CultureInfo.InvariantCulture, $"{report.Models} models, {report.Blobs} blobs, {report.References} references"));
            Row(grid, "models", string.Create(CultureInfo.InvariantCulture, $"{report.ModelsImported} imported, {report.ModelsUnchanged} unchanged"));
            Row(grid, "blobs", string.Create(CultureInfo.InvariantCulture, $"{report.BlobsUploaded} uploaded, {report.BlobsPresent} already present"));
            Row(grid, "references", string.Create(CultureInfo.InvariantCulture, $"{report.ReferencesAdded} added"));
            Row(grid, "conflicts", report.ConflictCount.ToString(CultureInfo.InvariantCulture));
        }

        console.Write(grid);
        if (job.Report is { Conflicts.Count: > 0 } withConflicts)
        {
            var table = new Table().Border(TableBorder.Simple).AddColumn("MODEL").AddColumn("ALIAS").AddColumn("CONFLICT").AddColumn("MESSAGE");
            foreach (var conflict in withConflicts.Conflicts)
            {
                table.AddRow(Markup.Escape(conflict.ModelId), Markup.Escape(conflict.Alias), Conflict(conflict.Kind), Markup.Escape(conflict.Message));
            }

            console.Write(table);
            if (withConflicts.ConflictCount > withConflicts.Conflicts.Count)
            {
                console.MarkupLineInterpolated($"(first {withConflicts.Conflicts.Count} of {withConflicts.ConflictCount} conflicts)");
            }
        }
    }

    private static async Task<T> FollowAsync<T>(CliContext cli, string what, IAsyncEnumerable<T> updates, Func<T, V1.Progress?> progress)
        where T : class
    {
        var last = await ProgressDisplay.JobAsync(cli.Error, what, async report =>
        {
            T? job = null;
            await foreach (var update in updates)
            {
                job = update;
                report(progress(update));
            }

            return job;
        });
        return last ?? throw new InvalidOperationException($"the watch of {what} ended without sending its state");
    }

    private static string Conflict(ConflictKind kind) => kind switch
    {
        ConflictKind.ModelExists => "model exists",
        ConflictKind.AliasTaken => "alias taken",
        _ => "unspecified",
    };

    private static Grid Grid() => new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();

    /// <summary>Empty values are left out: a queued job has no finish time to show.</summary>
    private static void Row(Grid grid, string name, string value)
    {
        if (value.Length > 0)
        {
            grid.AddRow(new Text(name), new Text(value));
        }
    }
}
