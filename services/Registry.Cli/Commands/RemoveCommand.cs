using System.CommandLine;
using Spectre.Console;

namespace Microservices.Registry.Cli;

/// <summary>`registry rm MODEL`: asks first (`--yes` skips); deletes only the version it showed.</summary>
internal static class RemoveCommand
{
    public static Command Create(Func<ParseResult, RegistryClient> connect, IAnsiConsole console, TextReader input)
    {
        var model = new Argument<string>("model") { Description = "Model id or alias" };
        var yes = new Option<bool>("--yes", "-y") { Description = "Don't ask for confirmation" };
        var force = new Option<bool>("--force") { Description = "Delete even while RUNNING" };
        var command = new Command("rm", "Delete a model");
        command.Arguments.Add(model);
        command.Options.Add(yes);
        command.Options.Add(force);
        command.SetAction((parse, ct) => RegistryCli.GuardAsync(console, async () =>
        {
            using var client = connect(parse);
            var found = await client.ResolveAsync(parse.GetValue(model)!, ct);
            if (!parse.GetValue(yes))
            {
                console.MarkupInterpolated($"Delete {found.ModelId} (alias '{found.Alias}', {Formatting.Status(found.Status)})? [[y/N]] ");
                var answer = (await input.ReadLineAsync(ct))?.Trim();
                if (!string.Equals(answer, "y", StringComparison.OrdinalIgnoreCase) && !string.Equals(answer, "yes", StringComparison.OrdinalIgnoreCase))
                {
                    console.MarkupLine("Not deleted.");
                    return 1;
                }
            }

            // The version shown is the version deleted: a change in between is ABORTED, not lost.
            await client.DeleteAsync(found, parse.GetValue(force), ct);
            console.MarkupLineInterpolated($"Deleted {found.ModelId}");
            return 0;
        }));
        return command;
    }
}
