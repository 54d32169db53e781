using System.CommandLine;
using Grpc.Core;
using Microservices.Clients;
using Spectre.Console;

namespace Microservices.Export.Cli;

/// <summary>
/// The `export` command line. Results go to <c>output</c> (stdout); progress bars, notes and errors
/// to <c>error</c> (stderr), so scripts can capture an id, a URL or a key. Tests pass consoles that record.
/// </summary>
internal static class ExportCli
{
    public const string DefaultAddress = "http://127.0.0.1:50053";

    public static async Task<int> RunAsync(string[] args, IAnsiConsole output, IAnsiConsole error, CancellationToken cancellationToken)
    {
        var parsed = Build(output, error).Parse(args);
        return await parsed.InvokeAsync(new InvocationConfiguration { Output = output.Profile.Out.Writer, Error = error.Profile.Out.Writer }, cancellationToken);
    }

    /// <summary>The command tree; building it connects to nothing (a channel is made when a command runs).</summary>
    public static RootCommand Build(IAnsiConsole output, IAnsiConsole error)
    {
        var address = new Option<string>("--address")
        {
            Description = "export service gRPC address (env EXPORT_ADDRESS)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("EXPORT_ADDRESS") ?? DefaultAddress,
            Recursive = true,
        };
        // The owner is whoever the token names (its subject); the token never goes on the command line.
        var tokenFile = new Option<string?>("--token-file")
        {
            Description = $"file holding the bearer token (else env {BearerToken.Variable}, else the file env {BearerToken.FileVariable} names); its subject is the owner",
            Recursive = true,
        };
        var timeout = new Option<int>("--timeout") { Description = "Seconds each unary call may take (streams have none; an upload ends after 10 min without progress)", DefaultValueFactory = _ => 30, Recursive = true };
        timeout.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() <= 0)
            {
                result.AddError("--timeout must be a positive number of seconds");
            }
        });

        var root = new RootCommand("export: an owner's data export (models, blobs, references) as a signed tar.gz, and its import.");
        root.Options.Add(address);
        root.Options.Add(tokenFile);
        root.Options.Add(timeout);

        var cli = new CliContext(
            parse => new ExportCalls(GrpcChannels.Create(parse.GetValue(address)!), BearerToken.Find(parse.GetValue(tokenFile)), TimeSpan.FromSeconds(parse.GetValue(timeout))),
            output,
            error);

        root.Subcommands.Add(StartCommand.Create(cli));
        root.Subcommands.Add(JobCommands.Watch(cli));
        root.Subcommands.Add(ListCommand.Create(cli));
        root.Subcommands.Add(JobCommands.Show(cli));
        root.Subcommands.Add(JobCommands.Cancel(cli));
        root.Subcommands.Add(UrlCommand.Create(cli));
        root.Subcommands.Add(DownloadCommand.Create(cli));
        root.Subcommands.Add(KeyCommand.Create(cli));
        root.Subcommands.Add(VerifyCommand.Create(cli));
        root.Subcommands.Add(ImportCommand.Create(cli));
        root.Subcommands.Add(JobCommands.ImportWatch(cli));
        return root;
    }

    /// <summary>Runs one command's work; a refused call prints the server's status and message, never a stack trace.</summary>
    public static async Task<int> GuardAsync(IAnsiConsole error, Func<Task<int>> work, CancellationToken cancellationToken)
    {
        try
        {
            return await work();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            error.MarkupLine("[yellow]interrupted[/]");
            return ExitCodes.Interrupted;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
        {
            error.MarkupLine("[yellow]interrupted[/]");
            return ExitCodes.Interrupted;
        }
        catch (RpcException e)
        {
            error.MarkupLineInterpolated($"[red]error:[/] {e.StatusCode}: {e.Status.Detail}");
            return ExitCodes.Failed;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            error.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            return ExitCodes.Failed;
        }
    }
}

/// <summary>What every command gets: how to connect (from the global options) and where to write.</summary>
internal sealed record CliContext(Func<ParseResult, ExportCalls> Connect, IAnsiConsole Output, IAnsiConsole Error)
{
    /// <summary>An exact line on stdout (ids, URLs, PEM): Spectre would wrap it at the console width.</summary>
    public void Result(string line) => Output.Profile.Out.Writer.WriteLine(line);
}

/// <summary>Exit codes, for scripts: a finished job that did not complete is not the same as a refused call.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>A call was refused, a file could not be read, an archive was rejected, arguments were wrong.</summary>
    public const int Failed = 1;

    public const int JobFailed = 2;

    public const int JobCancelled = 3;

    public const int Interrupted = 130;
}
