using System.CommandLine;
using Microservices.Registry.V1;
using Spectre.Console;

namespace Microservices.Registry.Cli;

/// <summary>`registry list`: every model of the owner as a table, sortable, with real timestamps.</summary>
internal static class ListCommand
{
    public static Command Create(Func<ParseResult, RegistryClient> connect, IAnsiConsole console)
    {
        var sort = new Option<string>("--sort") { Description = "id, created or updated", DefaultValueFactory = _ => "id" };
        sort.AcceptOnlyFromAmong("id", "created", "updated");
        var descending = new Option<bool>("--desc") { Description = "Newest / last first" };
        var status = new Option<string?>("--status") { Description = "READY or RUNNING" };
        status.AcceptOnlyFromAmong("READY", "RUNNING");
        var prefix = new Option<string?>("--prefix") { Description = "Ids or aliases starting with this" };

        var command = new Command("list", "List models (ls)");
        command.Aliases.Add("ls");
        command.Options.Add(sort);
        command.Options.Add(descending);
        command.Options.Add(status);
        command.Options.Add(prefix);
        command.SetAction((parse, ct) => RegistryCli.GuardAsync(console, async () =>
        {
            using var client = connect(parse);
            var query = new ListModelsRequest
            {
                OrderBy = parse.GetValue(sort) switch
                {
                    "created" => ModelOrder.CreatedAt,
                    "updated" => ModelOrder.UpdatedAt,
                    _ => ModelOrder.ModelId,
                },
                Descending = parse.GetValue(descending),
                Status = parse.GetValue(status) switch
                {
                    "READY" => ModelStatus.Ready,
                    "RUNNING" => ModelStatus.Running,
                    _ => ModelStatus.Unspecified,
                },
                Prefix = parse.GetValue(prefix) ?? "",
            };

            var table = new Table().Border(TableBorder.Simple);
            // Only the id may wrap on a narrow terminal; the short columns and timestamps stay whole.
            table.AddColumn("ID");
            foreach (var column in new[] { "ALIAS", "SOURCE", "STATUS", "VERSION", "CREATED", "UPDATED" })
            {
                table.AddColumn(new TableColumn(column).NoWrap());
            }

            var count = 0;
            await foreach (var model in client.ListAsync(query, ct))
            {
                count++;
                table.AddRow(
                    Markup.Escape(model.ModelId),
                    Markup.Escape(model.Alias),
                    Formatting.Source(model.SourceType),
                    Formatting.Status(model.Status),
                    model.Version.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    Formatting.Time(model.CreatedAt),
                    Formatting.Time(model.UpdatedAt));
            }

            if (count == 0)
            {
                console.MarkupLine(client.Owner.Length == 0 ? "No models." : $"No models for owner '{Markup.Escape(client.Owner)}'.");
                return 0;
            }

            console.Write(table);
            console.MarkupLineInterpolated($"{count} model(s)");
            return 0;
        }));
        return command;
    }
}
