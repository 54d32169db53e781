using System.CommandLine;
using Spectre.Console;

namespace Microservices.Export.Cli;

/// <summary>
/// `export key`: this installation's public signing key as PEM on stdout (`export key > site-a.pem`),
/// for another installation's Export:Import:TrustedKeys or `export verify --key`. Its id on stderr.
/// </summary>
internal static class KeyCommand
{
    public static Command Create(CliContext cli)
    {
        var command = new Command("key", "Print the service's public signing key (PEM) so another installation can trust its archives");
        command.SetAction((parse, ct) => ExportCli.GuardAsync(cli.Error, async () =>
        {
            using var calls = cli.Connect(parse);
            var key = await calls.GetSigningKeyAsync(ct);
            cli.Output.Profile.Out.Writer.Write(key.PublicKeyPem.EndsWith('\n') ? key.PublicKeyPem : key.PublicKeyPem + "\n");
            cli.Error.MarkupLineInterpolated($"installation '{key.Installation}', key id {key.KeyId} ({key.Algorithm})");
            return ExitCodes.Ok;
        }, ct));
        return command;
    }
}
