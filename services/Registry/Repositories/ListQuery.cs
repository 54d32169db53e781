using System.Data.Common;
using System.Text;
using Microservices.Registry.Models;

namespace Microservices.Registry.Repositories;

/// <summary>
/// Builds the SQL of one List page, and of the count of all its matches. Each filter is written so an index serves it (see the
/// migrations): equality on (owner, column, model_id) indexes, prefix as ranges on the primary
/// key and the alias index, tag as a semi-join through the (owner, key, value) index.
/// </summary>
internal static class ListQuery
{
    public static void Build(DbCommand command, string owner, ModelQuery query, PageToken? after, int limit, string tagsJsonSql)
    {
        var sql = new StringBuilder();
        sql.Append("SELECT ").Append(ModelRows.Columns).Append(", ").Append(tagsJsonSql).Append(" FROM models m");
        AppendFilters(sql, command, owner, query);
        AppendPage(sql, command, query, after, limit);
        command.CommandText = sql.ToString();
    }

    /// <summary>How many models the query's filters match, whatever the page (its token and size are ignored).</summary>
    public static void BuildCount(DbCommand command, string owner, ModelQuery query)
    {
        var sql = new StringBuilder("SELECT count(*) FROM models m");
        AppendFilters(sql, command, owner, query);
        command.CommandText = sql.ToString();
    }

    private static void AppendFilters(StringBuilder sql, DbCommand command, string owner, ModelQuery query)
    {
        sql.Append(" WHERE m.owner = @owner");
        command.Add("@owner", owner);

        if (query.SourceType is { } sourceType)
        {
            sql.Append(" AND m.source_type = @source_type");
            command.Add("@source_type", sourceType.ToStorage());
        }

        if (query.Status is { } status)
        {
            sql.Append(" AND m.status = @status");
            command.Add("@status", status.ToStorage());
        }

        if (query.AuthorRepo is { } authorRepo)
        {
            sql.Append(" AND m.author_repo = @author_repo");
            command.Add("@author_repo", authorRepo);
        }

        if (query.Prefix is { } prefix)
        {
            // "id OR alias starts with": as an IN over a UNION so each half uses its own index
            // (the plain OR form lets SQLite fall back to scanning the owner's rows).
            command.Add("@prefix", prefix);
            var upper = PrefixRange.UpperBound(prefix);
            var idRange = upper is null ? "p.model_id >= @prefix" : "p.model_id >= @prefix AND p.model_id < @prefix_end";
            var aliasRange = upper is null ? "p.alias >= @prefix" : "p.alias >= @prefix AND p.alias < @prefix_end";
            if (upper is not null)
            {
                command.Add("@prefix_end", upper);
            }

            sql.Append(" AND m.model_id IN (SELECT p.model_id FROM models p WHERE p.owner = @owner AND ").Append(idRange)
                .Append(" UNION ALL SELECT p.model_id FROM models p WHERE p.owner = @owner AND ").Append(aliasRange).Append(')');
        }

        if (query.TagKey is { } tagKey)
        {
            sql.Append(" AND m.model_id IN (SELECT t.model_id FROM model_tags t WHERE t.owner = @owner AND t.tag_key = @tag_key");
            command.Add("@tag_key", tagKey);
            if (query.TagValue is { } tagValue)
            {
                sql.Append(" AND t.tag_value = @tag_value");
                command.Add("@tag_value", tagValue);
            }

            sql.Append(')');
        }
    }

    private static void AppendPage(StringBuilder sql, DbCommand command, ModelQuery query, PageToken? after, int limit)
    {
        var sortColumn = SortColumn(query.OrderBy);
        var comparison = query.Descending ? "<" : ">";
        if (after is not null)
        {
            if (sortColumn is null)
            {
                sql.Append($" AND m.model_id {comparison} @after_id");
            }
            else
            {
                sql.Append($" AND (m.{sortColumn}, m.model_id) {comparison} (@after_sort, @after_id)");
                command.Add("@after_sort", after.SortValue ?? 0L);
            }

            command.Add("@after_id", after.LastModelId);
        }

        var direction = query.Descending ? " DESC" : "";
        sql.Append(" ORDER BY ");
        if (sortColumn is not null)
        {
            sql.Append("m.").Append(sortColumn).Append(direction).Append(", ");
        }

        sql.Append("m.model_id").Append(direction).Append(" LIMIT @limit");
        command.Add("@limit", limit);
    }

    public static long? SortValueOf(RegisteredModel model, ModelOrder order) => order switch
    {
        ModelOrder.CreatedAt => ModelRows.ToStorage(model.CreatedAt),
        ModelOrder.UpdatedAt => ModelRows.ToStorage(model.UpdatedAt),
        _ => null,
    };

    private static string? SortColumn(ModelOrder order) => order switch
    {
        ModelOrder.CreatedAt => "created_at",
        ModelOrder.UpdatedAt => "updated_at",
        _ => null,
    };
}
