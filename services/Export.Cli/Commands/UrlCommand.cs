using System.CommandLine;
using Spectre.Console;

namespace Microservices.Export.Cli;

/// <summary>`export url ID [--expires 15m]`: a presigned GET URL of a completed export (stdout), its expiry on stderr.</summary>
internal static class UrlCommand
{
    public static Command Create(CliContext cli)
    {
        var id = new Argument<string>("export-id");
        var expires = new Option<TimeSpan?>("--expires")
        {
            Description = "How long the link works: 90s, 15m, 2h, 7d (at most 7 days; default: the server's, 15m)",
            CustomParser = result =>
            {
                var value = DurationText.Parse(result.Tokens.Single().Value, out var error);
                if (error is not null)
                {
                    result.AddError("--expires: " + error);
                }

                return value;
            },
        };
        var command = new Command("url", "A presigned download URL of a completed export");
        command.Arguments.Add(id);
        command.Options.Add(expires);
        command.SetAction((parse, ct) => ExportCli.GuardAsync(cli.Error, async () =>
        {
            using var calls = cli.Connect(parse);
            var link = await calls.GetDownloadUrlAsync(parse.GetValue(id)!, parse.GetValue(expires), ct);
            cli.Result(link.Url);
            cli.Error.MarkupLineInterpolated($"expires {Formatting.Time(link.ExpiresAt)}");
            return ExitCodes.Ok;
        }, ct));
        return command;
    }
}
