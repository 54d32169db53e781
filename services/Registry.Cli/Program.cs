using Microservices.Registry.Cli;
using Spectre.Console;

var console = AnsiConsole.Console;
if (Console.IsOutputRedirected)
{
    // Piped into grep/less/a file: one line per row, not wrapped at an assumed 80 columns.
    console.Profile.Width = 1024;
}

return await RegistryCli.RunAsync(args, console, Console.In, CancellationToken.None);
