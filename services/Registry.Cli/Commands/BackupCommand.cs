using System.CommandLine;
using Spectre.Console;

namespace Microservices.Registry.Cli;

/// <summary>`registry backup PATH`: an online copy of the database, written by the server at PATH.</summary>
internal static class BackupCommand
{
    public static Command Create(Func<ParseResult, RegistryClient> connect, IAnsiConsole console)
    {
        var destination = new Argument<string>("destination") { Description = "Path on the server's machine; must not exist" };
        var command = new Command("backup", "Back up the registry database (SQLite store)");
        command.Arguments.Add(destination);
        command.SetAction((parse, ct) => RegistryCli.GuardAsync(console, async () =>
        {
            using var client = connect(parse);
            var result = await client.BackupAsync(parse.GetValue(destination)!, ct);
            console.MarkupLineInterpolated($"Backed up to {result.DestinationPath} ({result.SizeBytes} bytes)");
            return 0;
        }));
        return command;
    }
}
