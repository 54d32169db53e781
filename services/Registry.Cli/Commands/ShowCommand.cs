using System.CommandLine;
using Spectre.Console;

namespace Microservices.Registry.Cli;

/// <summary>`registry show ID|ALIAS`: every field of one model.</summary>
internal static class ShowCommand
{
    public static Command Create(Func<ParseResult, RegistryClient> connect, IAnsiConsole console)
    {
        var model = new Argument<string>("model") { Description = "Model id or alias" };
        var command = new Command("show", "Show one model");
        command.Arguments.Add(model);
        command.SetAction((parse, ct) => RegistryCli.GuardAsync(console, async () =>
        {
            using var client = connect(parse);
            var found = await client.ResolveAsync(parse.GetValue(model)!, ct);
            var grid = new Grid().AddColumn().AddColumn();
            void Row(string name, string value) => grid.AddRow(new Text(name), new Text(value));
            Row("id", found.ModelId);
            Row("alias", found.Alias.Length == 0 ? "(none)" : found.Alias);
            Row("source", Formatting.Source(found.SourceType));
            Row("author/repo", found.AuthorRepo);
            Row("branch", found.Branch);
            Row("config", found.ConfigPath);
            Row("status", Formatting.Status(found.Status));
            Row("version", found.Version.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Row("created", Formatting.Time(found.CreatedAt));
            Row("updated", Formatting.Time(found.UpdatedAt));
            foreach (var (key, value) in found.Tags.OrderBy(t => t.Key, StringComparer.Ordinal))
            {
                Row("tag " + key, value);
            }

            console.Write(grid);
            return 0;
        }));
        return command;
    }
}
