using System.CommandLine;
using Microservices.Export.V1;
using Spectre.Console;

namespace Microservices.Export.Cli;

/// <summary>
/// `export import ARCHIVE | --export-id ID | --url URL [--dry-run] [--watch]`: a local archive is
/// uploaded first (UploadArchive, 1 MiB chunks), then StartImport; --watch prints the report at the end.
/// </summary>
internal static class ImportCommand
{
    public static Command Create(CliContext cli)
    {
        var archive = new Argument<FileInfo?>("archive") { Description = "A .tar.gz made by an export (this or another installation)", Arity = ArgumentArity.ZeroOrOne };
        var exportId = new Option<string?>("--export-id") { Description = "A completed export of yours in this installation" };
        var url = new Option<string?>("--url") { Description = "An http(s) URL of an archive, e.g. another installation's `export url`" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Verify and report what would happen (conflicts included); write nothing" };
        var watch = new Option<bool>("--watch", "-w") { Description = "Follow the import and print its report" };
        var command = new Command("import", "Import an archive into your account");
        command.Arguments.Add(archive);
        command.Options.Add(exportId);
        command.Options.Add(url);
        command.Options.Add(dryRun);
        command.Options.Add(watch);
        command.SetAction((parse, ct) => ExportCli.GuardAsync(cli.Error, async () =>
        {
            var source = ImportSource.From(parse.GetValue(archive)?.FullName, parse.GetValue(exportId), parse.GetValue(url), out var problem);
            if (source is null)
            {
                cli.Error.MarkupLineInterpolated($"[red]error:[/] {problem}");
                return ExitCodes.Failed;
            }

            using var calls = cli.Connect(parse);
            var request = source.Request();
            if (source.Kind == ImportSourceKind.File)
            {
                request.ArchiveId = await UploadAsync(cli, calls, source.Value, ct);
            }

            request.DryRun = parse.GetValue(dryRun);
            var job = await calls.StartImportAsync(request, ct);
            cli.Result(job.ImportId);
            cli.Error.MarkupLineInterpolated($"import {job.ImportId} {Formatting.State(job.State)}{(job.DryRun ? " (dry run)" : "")}");
            return parse.GetValue(watch) ? await JobViews.WatchImportAsync(cli, calls, job.ImportId, ct) : ExitCodes.Ok;
        }, ct));
        return command;
    }

    private static async Task<string> UploadAsync(CliContext cli, ExportCalls calls, string path, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var uploaded = await ProgressDisplay.TransferAsync(cli.Error, "upload", file.Length, 0, progress => calls.UploadArchiveAsync(file, progress, cancellationToken));
        cli.Error.MarkupLineInterpolated($"uploaded {Formatting.Bytes(uploaded.SizeBytes)} as archive {uploaded.ArchiveId} (kept until {Formatting.Time(uploaded.ExpiresAt)})");
        return uploaded.ArchiveId;
    }
}
