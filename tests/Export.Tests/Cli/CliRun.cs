using Microservices.Export.Cli;
using Spectre.Console;

namespace Microservices.Export.Tests.Cli;

/// <summary>Runs the `export` CLI in-process with recording consoles (stdout and stderr apart).</summary>
internal static class CliRun
{
    public static async Task<(int Exit, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await ExportCli.RunAsync(args, Recording(output), Recording(error), CancellationToken.None);
        return (exit, output.ToString(), error.ToString());
    }

    public static IAnsiConsole Recording(TextWriter writer)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 240;
        return console;
    }
}
