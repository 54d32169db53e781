using System.CommandLine;
using Spectre.Console;

namespace Microservices.Registry.Cli;

/// <summary>`registry backup`: an online copy of the database in the server's Registry:Backup:Directory, under a name the server makes.</summary>
internal static class BackupCommand
{
    public static Command Create(Func<ParseResult, RegistryClient> connect, IAnsiConsole console)
    {
        var command = new Command("backup", "Back up the registry database (SQLite store) into the server's backup directory");
        command.SetAction((parse, ct) => RegistryCli.GuardAsync(console, async () =>
        {
            using var client = connect(parse);
            var result = await client.BackupAsync(ct);
            console.MarkupLineInterpolated($"Backed up to {result.FileName} in the server's backup directory ({result.SizeBytes} bytes)");
            return 0;
        }));
        return command;
    }
}
