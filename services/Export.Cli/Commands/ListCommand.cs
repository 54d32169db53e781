using System.CommandLine;
using Spectre.Console;

namespace Microservices.Export.Cli;

/// <summary>`export list`: the owner's exports, newest first, as a table.</summary>
internal static class ListCommand
{
    public static Command Create(CliContext cli)
    {
        var command = new Command("list", "List your exports, newest first (ls)");
        command.Aliases.Add("ls");
        command.SetAction((parse, ct) => ExportCli.GuardAsync(cli.Error, async () =>
        {
            using var calls = cli.Connect(parse);
            var table = new Table().Border(TableBorder.Simple);
            table.AddColumn("ID");
            foreach (var column in new[] { "STATE", "SIZE", "CREATED", "FINISHED", "EXPIRES" })
            {
                table.AddColumn(new TableColumn(column).NoWrap());
            }

            table.AddColumn("PROGRESS / ERROR");
            var count = 0;
            await foreach (var job in calls.ListExportsAsync(ct))
            {
                count++;
                table.AddRow(
                    Markup.Escape(job.ExportId),
                    Formatting.State(job.State),
                    job.Archive is { } archive ? Formatting.Bytes(archive.SizeBytes) : "",
                    Formatting.Time(job.CreatedAt),
                    Formatting.Time(job.FinishedAt),
                    Formatting.Time(job.ExpiresAt),
                    Markup.Escape(Formatting.IsFinished(job.State) ? Formatting.Error(job.Error) : Formatting.Describe(job.Progress)));
            }

            if (count == 0)
            {
                cli.Output.MarkupLine("No exports.");
                return ExitCodes.Ok;
            }

            cli.Output.Write(table);
            cli.Output.MarkupLineInterpolated($"{count} export(s)");
            return ExitCodes.Ok;
        }, ct));
        return command;
    }
}
