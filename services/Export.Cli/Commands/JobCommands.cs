using System.CommandLine;
using Spectre.Console;

namespace Microservices.Export.Cli;

/// <summary>The commands that take one job id and make one call: watch, show, cancel, import-watch.</summary>
internal static class JobCommands
{
    /// <summary>`export watch ID`: a progress bar until the export ends, then its final state; exit 2 failed, 3 cancelled.</summary>
    public static Command Watch(CliContext cli) => WithId(cli, "watch", "Follow an export until it ends", "export-id",
        (calls, id, ct) => JobViews.WatchExportAsync(cli, calls, id, ct));

    /// <summary>`export show ID`: every field of one export.</summary>
    public static Command Show(CliContext cli) => WithId(cli, "show", "Show one export", "export-id", async (calls, id, ct) =>
    {
        JobViews.ShowExport(cli.Output, await calls.GetExportAsync(id, ct));
        return ExitCodes.Ok;
    });

    /// <summary>`export cancel ID`: a queued or running export (the server refuses a finished one, naming its state).</summary>
    public static Command Cancel(CliContext cli) => WithId(cli, "cancel", "Cancel a queued or running export", "export-id", async (calls, id, ct) =>
    {
        var job = await calls.CancelExportAsync(id, ct);
        cli.Output.MarkupLineInterpolated($"export {job.ExportId}: {Formatting.State(job.State)}");
        return ExitCodes.Ok;
    });

    /// <summary>`export import-watch ID`: follows an import started without --watch, then prints its report.</summary>
    public static Command ImportWatch(CliContext cli) => WithId(cli, "import-watch", "Follow an import until it ends and print its report", "import-id",
        (calls, id, ct) => JobViews.WatchImportAsync(cli, calls, id, ct));

    private static Command WithId(CliContext cli, string name, string description, string argument, Func<ExportCalls, string, CancellationToken, Task<int>> run)
    {
        var id = new Argument<string>(argument);
        var command = new Command(name, description);
        command.Arguments.Add(id);
        command.SetAction((parse, ct) => ExportCli.GuardAsync(cli.Error, async () =>
        {
            using var calls = cli.Connect(parse);
            return await run(calls, parse.GetValue(id)!, ct);
        }, ct));
        return command;
    }
}
