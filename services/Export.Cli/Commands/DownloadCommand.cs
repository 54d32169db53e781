using System.CommandLine;
using System.Globalization;
using Microservices.Export.V1;
using Spectre.Console;

namespace Microservices.Export.Cli;

/// <summary>
/// `export download ID [-o FILE]`: the archive through the service (for machines that cannot reach
/// S3). Resumable: a second run continues where the first stopped (<see cref="DownloadPlan"/>);
/// the file appears under its name only when it has every byte.
/// </summary>
internal static class DownloadCommand
{
    public static Command Create(CliContext cli)
    {
        var id = new Argument<string>("export-id");
        var output = new Option<string?>("--output", "-o") { Description = "File to write (default: export-<id>.tar.gz)" };
        var command = new Command("download", "Download a completed export's archive (resumable)");
        command.Arguments.Add(id);
        command.Options.Add(output);
        command.SetAction((parse, ct) => ExportCli.GuardAsync(cli.Error, async () =>
        {
            var exportId = parse.GetValue(id)!;
            using var calls = cli.Connect(parse);
            var job = await calls.GetExportAsync(exportId, ct);
            if (job.State != JobState.Completed || job.Archive is null)
            {
                cli.Error.MarkupLineInterpolated($"[red]error:[/] export {exportId} is {Formatting.State(job.State)}: only a completed export can be downloaded");
                return ExitCodes.Failed;
            }

            var plan = DownloadPlan.For(parse.GetValue(output) ?? $"export-{exportId}.tar.gz", exportId, job.Archive.SizeBytes);
            if (plan.AlreadyComplete)
            {
                cli.Output.MarkupLineInterpolated($"{plan.Target} already has all {plan.ArchiveSize} bytes");
                return ExitCodes.Ok;
            }

            await using (var file = plan.OpenPartial())
            {
                await ProgressDisplay.TransferAsync(cli.Error, "download", plan.ArchiveSize, plan.Offset, async progress =>
                {
                    await calls.DownloadAsync(exportId, plan.Offset, file, progress, ct);
                    return true;
                });
            }

            plan.Complete();
            var resumed = plan.Offset > 0 ? string.Create(CultureInfo.InvariantCulture, $" (continued from byte {plan.Offset})") : "";
            cli.Output.MarkupLineInterpolated($"wrote {plan.ArchiveSize} bytes to {plan.Target}{resumed}");
            return ExitCodes.Ok;
        }, ct));
        return command;
    }
}
