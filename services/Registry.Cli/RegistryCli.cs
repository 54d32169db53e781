using System.CommandLine;
using Grpc.Core;
using Microservices.Clients;
using Spectre.Console;

namespace Microservices.Registry.Cli;

/// <summary>
/// The `registry` command line: list, show, import, alias, rm, backup. Output goes to the given
/// console (tests pass one that records), confirmations are read from the given input.
/// Exit codes: 0 done, 1 refused or failed (the server's status and message are printed),
/// 2 an import that reported bad lines.
/// </summary>
internal static class RegistryCli
{
    public const string DefaultAddress = "http://127.0.0.1:50052";

    public static async Task<int> RunAsync(string[] args, IAnsiConsole console, TextReader input, CancellationToken cancellationToken)
    {
        var address = new Option<string>("--address") { Description = "The registry service", DefaultValueFactory = _ => DefaultAddress, Recursive = true };
        var owner = new Option<string>("--owner") { Description = "Whose models: empty (the default) or the token's own subject", DefaultValueFactory = _ => "", Recursive = true };
        var tokenFile = new Option<string>("--token-file") { Description = $"A file holding the bearer token (else ${BearerToken.Variable}, else the file ${BearerToken.FileVariable} names)", Recursive = true };
        var timeout = new Option<int>("--timeout") { Description = "Seconds each call may take", DefaultValueFactory = _ => 30, Recursive = true };

        var root = new RootCommand("registry: the model registry from the command line (Ollama-style list/show/rm, MLflow-style aliases).");
        root.Options.Add(address);
        root.Options.Add(owner);
        root.Options.Add(timeout);
        root.Options.Add(tokenFile);

        Func<ParseResult, RegistryClient> connect = parse => new RegistryClient(
            GrpcChannels.Create(parse.GetValue(address)!),
            parse.GetValue(owner)!,
            BearerToken.Find(parse.GetValue(tokenFile)),
            TimeSpan.FromSeconds(parse.GetValue(timeout)));

        root.Subcommands.Add(ListCommand.Create(connect, console));
        root.Subcommands.Add(ShowCommand.Create(connect, console));
        root.Subcommands.Add(ImportCommand.Create(connect, console));
        root.Subcommands.Add(AliasCommand.Create(connect, console));
        root.Subcommands.Add(RemoveCommand.Create(connect, console, input));
        root.Subcommands.Add(BackupCommand.Create(connect, console));

        var output = new StringWriter();
        var parsed = root.Parse(args);
        var exit = await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = output }, cancellationToken);
        if (output.GetStringBuilder().Length > 0)
        {
            console.Write(new Spectre.Console.Text(output.ToString()));
        }

        return exit;
    }

    /// <summary>Runs one command's work; a refused call prints the server's status and message.</summary>
    public static async Task<int> GuardAsync(IAnsiConsole console, Func<Task<int>> work)
    {
        try
        {
            return await work();
        }
        catch (RpcException e)
        {
            console.MarkupLineInterpolated($"[red]error:[/] {e.StatusCode}: {e.Status.Detail}");
            return 1;
        }
    }
}
