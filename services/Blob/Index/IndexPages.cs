using System.Text;

namespace Microservices.Blob.Index;

/// <summary>
/// What both index backends page by, so their statements, order and tokens cannot drift apart:
/// the reference list's statement per filter shape, the token check, and the page cut.
/// </summary>
internal static class IndexPages
{
    /// <summary>The position after which the page starts (null: the first page).</summary>
    /// <exception cref="FormatException">The token is another owner's, another list's, or for other filters.</exception>
    public static (string TraceId, string EventId, string Hash)? ReferencesAfter(string owner, string? traceId, string? hash, string? pageToken)
    {
        var after = PageTokens.ReadReferences(owner, pageToken);
        return after is { } position && ((traceId is not null && position.TraceId != traceId) || (hash is not null && position.Hash != hash))
            ? throw PageTokens.Foreign()
            : after;
    }

    /// <summary>
    /// One statement per filter shape, so the database plans each on its index: a "$t IS NULL OR
    /// ..." form would make it scan all the owner's references. The keyset leaves out the filtered
    /// columns (the token was checked to match them): the range then stays on the index.
    /// Parameters: o, n; t and h when filtered; after a token ae, and at / ah for the unfiltered
    /// columns; <paramref name="prefix"/> is the provider's marker ('$' SQLite, '@' Npgsql).
    /// </summary>
    public static string ReferencesQuery(string table, char prefix, bool byTrace, bool byHash, bool after)
    {
        var where = new StringBuilder("owner = $o");
        if (byTrace)
        {
            where.Append(" AND trace_id = $t");
        }

        if (byHash)
        {
            where.Append(" AND hash = $h");
        }

        if (after)
        {
            where.Append((byTrace, byHash) switch
            {
                (true, true) => " AND event_id > $ae",
                (true, false) => " AND (event_id, hash) > ($ae, $ah)",
                (false, true) => " AND (trace_id, event_id) > ($at, $ae)",
                _ => " AND (trace_id, event_id, hash) > ($at, $ae, $ah)",
            });
        }

        return $"SELECT trace_id, event_id, hash, size, created_at FROM {table} WHERE {where} ORDER BY trace_id, event_id, hash LIMIT $n".Replace('$', prefix);
    }

    /// <summary>A page read with one row more than asked: that row only says a next page exists.</summary>
    public static ReferencePage References(string owner, List<BlobReferenceRecord> rows, int pageSize)
    {
        if (rows.Count <= pageSize)
        {
            return new ReferencePage(rows, null);
        }

        rows.RemoveAt(rows.Count - 1);
        var last = rows[^1];
        return new ReferencePage(rows, PageTokens.References(owner, last.TraceId, last.EventId, last.Digest.Hash));
    }

    /// <summary>A page read with one row more than asked: that row only says a next page exists.</summary>
    public static BlobPage Blobs(string owner, List<BlobRecord> rows, int pageSize, BlobTotals? totals)
    {
        if (rows.Count <= pageSize)
        {
            return new BlobPage(rows, null, totals);
        }

        rows.RemoveAt(rows.Count - 1);
        return new BlobPage(rows, PageTokens.Blobs(owner, rows[^1].Digest.Hash), totals);
    }
}
