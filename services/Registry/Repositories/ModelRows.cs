using System.Data.Common;
using System.Text.Json;
using Microservices.Registry.Models;

namespace Microservices.Registry.Repositories;

/// <summary>The column list both stores select, and turning a row back into a model.</summary>
internal static class ModelRows
{
    public const string Columns =
        "m.owner, m.model_id, m.source_type, m.author_repo, m.branch, m.config_path, m.alias, m.status, m.version, m.created_at, m.updated_at";

    public static RegisteredModel Read(DbDataReader reader)
    {
        return new RegisteredModel
        {
            Owner = reader.GetString(0),
            ModelId = reader.GetString(1),
            SourceType = SourceTypes.FromStorage(reader.GetString(2)),
            AuthorRepo = reader.GetString(3),
            Branch = reader.GetString(4),
            ConfigPath = reader.GetString(5),
            Alias = reader.IsDBNull(6) ? null : reader.GetString(6),
            Status = ModelStatuses.FromStorage(reader.GetString(7)),
            Version = reader.GetInt64(8),
            CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)),
            UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(10)),
            Tags = ReadTags(reader.IsDBNull(11) ? null : reader.GetString(11)),
        };
    }

    public static long ToStorage(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    private static IReadOnlyDictionary<string, string> ReadTags(string? json)
    {
        if (string.IsNullOrEmpty(json) || json == "{}")
        {
            return RegisteredModel.EmptyTags;
        }

        return JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? RegisteredModel.EmptyTags;
    }
}
