using Microservices.Export.Cli;
using Spectre.Console;

var output = AnsiConsole.Console;
if (Console.IsOutputRedirected)
{
    // Piped into grep/less/a file: one line per row, not wrapped at an assumed 80 columns.
    output.Profile.Width = 1024;
}

// Progress bars and errors go to stderr, so stdout carries only results (`id=$(export start)`).
var error = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
if (Console.IsErrorRedirected)
{
    error.Profile.Width = 1024;
}

return await ExportCli.RunAsync(args, output, error, CancellationToken.None);
