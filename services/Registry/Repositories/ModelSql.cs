using System.Data.Common;
using Microservices.Registry.Models;

namespace Microservices.Registry.Repositories;

/// <summary>The insert statements and their parameters, shared by single writes and imports.</summary>
internal static class ModelSql
{
    public const string InsertModel = """
        INSERT INTO models (owner, model_id, source_type, author_repo, branch, config_path, alias, status, version, created_at, updated_at)
        VALUES (@owner, @model_id, @source_type, @author_repo, @branch, @config_path, @alias, @status, @version, @created_at, @updated_at)
        """;

    public const string InsertTag = "INSERT INTO model_tags (owner, model_id, tag_key, tag_value) VALUES (@owner, @model_id, @tag_key, @tag_value)";

    public static void AddModelColumns(DbCommand command, RegisteredModel model) =>
        SetModelParameters(AddModelParameters(command), model);

    public static DbParameter[] AddModelParameters(DbCommand command) =>
        [.. ModelParameterNames.Select(name => command.Add(name, null))];

    public static DbParameter[] AddModelParameters(DbBatchCommand command) =>
        [.. ModelParameterNames.Select(name =>
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            command.Parameters.Add(parameter);
            return parameter;
        })];

    public static void SetModelParameters(DbParameter[] p, RegisteredModel model)
    {
        p[0].Value = model.Owner;
        p[1].Value = model.ModelId;
        p[2].Value = model.SourceType.ToStorage();
        p[3].Value = model.AuthorRepo;
        p[4].Value = model.Branch;
        p[5].Value = model.ConfigPath;
        p[6].Value = (object?)model.Alias ?? DBNull.Value;
        p[7].Value = model.Status.ToStorage();
        p[8].Value = model.Version;
        p[9].Value = ModelRows.ToStorage(model.CreatedAt);
        p[10].Value = ModelRows.ToStorage(model.UpdatedAt);
    }

    public static async Task InsertTagsAsync(DbConnection connection, DbTransaction transaction, RegisteredModel model, CancellationToken cancellationToken)
    {
        foreach (var (key, value) in model.Tags)
        {
            await using var command = DbCommands.Create(connection, transaction, InsertTag);
            command.Add("@owner", model.Owner);
            command.Add("@model_id", model.ModelId);
            command.Add("@tag_key", key);
            command.Add("@tag_value", value);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static readonly string[] ModelParameterNames =
        ["@owner", "@model_id", "@source_type", "@author_repo", "@branch", "@config_path", "@alias", "@status", "@version", "@created_at", "@updated_at"];
}
