using System.CommandLine;
using Microservices.Export.V1;
using Spectre.Console;

namespace Microservices.Export.Cli;

/// <summary>`export start [--models] [--blobs] [--references] [--watch]`: prints the job id (stdout), then follows it if asked.</summary>
internal static class StartCommand
{
    public static Command Create(CliContext cli)
    {
        var models = new Option<bool>("--models") { Description = "Include the registry's models" };
        var blobs = new Option<bool>("--blobs") { Description = "Include blobs (metadata and bytes)" };
        var references = new Option<bool>("--references") { Description = "Include trace references to blobs" };
        var watch = new Option<bool>("--watch", "-w") { Description = "Follow the job with a progress bar until it ends" };
        var command = new Command("start", "Start an export of your data (none of --models/--blobs/--references: everything)");
        command.Options.Add(models);
        command.Options.Add(blobs);
        command.Options.Add(references);
        command.Options.Add(watch);
        command.SetAction((parse, ct) => ExportCli.GuardAsync(cli.Error, async () =>
        {
            using var calls = cli.Connect(parse);
            var include = new ExportContents { Models = parse.GetValue(models), Blobs = parse.GetValue(blobs), References = parse.GetValue(references) };
            var job = await calls.StartExportAsync(include, ct);
            cli.Result(job.ExportId);
            // A queued or running export is returned as it is: say so, or the id looks new.
            cli.Error.MarkupLineInterpolated($"export {job.ExportId} {Formatting.State(job.State)} ({Formatting.Contents(job.Include)}), created {Formatting.Time(job.CreatedAt)}");
            return parse.GetValue(watch) ? await JobViews.WatchExportAsync(cli, calls, job.ExportId, ct) : ExitCodes.Ok;
        }, ct));
        return command;
    }
}
