using System.CommandLine;
using Microservices.Registry.V1;
using Spectre.Console;

namespace Microservices.Registry.Cli;

/// <summary>`registry import FILE`: a legacy model.list, with the per-line report.</summary>
internal static class ImportCommand
{
    public static Command Create(Func<ParseResult, RegistryClient> connect, IAnsiConsole console)
    {
        var file = new Argument<FileInfo>("file") { Description = "A model.list file (read only, never modified)" };
        var allOrNothing = new Option<bool>("--all-or-nothing") { Description = "Import nothing if any line is bad" };
        var command = new Command("import", "Import a legacy model.list");
        command.Arguments.Add(file);
        command.Options.Add(allOrNothing);
        command.SetAction((parse, ct) => RegistryCli.GuardAsync(console, async () =>
        {
            var path = parse.GetValue(file)!;
            if (!path.Exists)
            {
                console.MarkupLineInterpolated($"[red]error:[/] {path.FullName} does not exist");
                return 1;
            }

            using var client = connect(parse);
            await using var stream = new FileStream(path.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous);
            var report = await client.ImportAsync(stream, parse.GetValue(allOrNothing) ? ImportMode.AllOrNothing : ImportMode.BestEffort, ct);

            console.MarkupLineInterpolated(
                $"{(report.Committed ? "imported" : "[red]nothing imported[/]")}: {report.Imported} new, {report.Unchanged} unchanged, {report.BlankLines} blank line(s), {report.Errors.Count} bad line(s)");
            foreach (var error in report.Errors)
            {
                console.MarkupLineInterpolated($"  line {error.LineNumber}: {error.Reason}");
            }

            return !report.Committed ? 1 : report.Errors.Count > 0 ? 2 : 0;
        }));
        return command;
    }
}
