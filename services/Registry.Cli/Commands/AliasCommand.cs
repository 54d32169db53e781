using System.CommandLine;
using Spectre.Console;

namespace Microservices.Registry.Cli;

/// <summary>`registry alias MODEL NEW-ALIAS` or `registry alias MODEL --remove`.</summary>
internal static class AliasCommand
{
    public static Command Create(Func<ParseResult, RegistryClient> connect, IAnsiConsole console)
    {
        var model = new Argument<string>("model") { Description = "Model id or current alias" };
        var alias = new Argument<string?>("alias") { Description = "The new alias", Arity = ArgumentArity.ZeroOrOne };
        var remove = new Option<bool>("--remove") { Description = "Remove the model's alias" };
        var command = new Command("alias", "Set or remove a model's alias");
        command.Arguments.Add(model);
        command.Arguments.Add(alias);
        command.Options.Add(remove);
        command.SetAction((parse, ct) => RegistryCli.GuardAsync(console, async () =>
        {
            var newAlias = parse.GetValue(alias);
            if (parse.GetValue(remove) == (newAlias is not null))
            {
                console.MarkupLine("[red]error:[/] give either a new alias or --remove");
                return 1;
            }

            using var client = connect(parse);
            var found = await client.ResolveAsync(parse.GetValue(model)!, ct);
            if (newAlias is null)
            {
                await client.RemoveAliasAsync(found.ModelId, ct);
                console.MarkupLineInterpolated($"{found.ModelId}: alias '{found.Alias}' removed");
            }
            else
            {
                var changed = await client.SetAliasAsync(found.ModelId, newAlias, ct);
                console.MarkupLineInterpolated($"{changed.ModelId}: alias is now '{changed.Alias}'");
            }

            return 0;
        }));
        return command;
    }
}
