using System.Data.Common;
using System.Text.Json;
using Microservices.Blob.Digests;

namespace Microservices.Blob.Index;

/// <summary>
/// Rows as both backends select them, read through <see cref="DbDataReader"/>: flags are read
/// with GetBoolean (SQLite's integer 0/1 and PostgreSQL's boolean alike), counts with GetInt64.
/// </summary>
internal static class IndexRows
{
    /// <summary>object_key, hash, size, stored_size, media_type, width, height, compression, key_id, created_at from <paramref name="at"/>.</summary>
    public static StoredObject Object(DbDataReader reader, int at) => new(
        reader.GetString(at), new BlobDigest(reader.GetString(at + 1), reader.GetInt64(at + 2)), reader.GetInt64(at + 3), reader.GetString(at + 4),
        reader.GetInt32(at + 5), reader.GetInt32(at + 6), (StoredCompression)reader.GetInt32(at + 7), reader.IsDBNull(at + 8) ? null : reader.GetString(at + 8),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(at + 9)));

    /// <summary>The object's columns, then sensitive, labels, created_at and the reference count.</summary>
    public static BlobRecord Blob(DbDataReader reader, string owner) => new(
        owner, Object(reader, 0), reader.GetBoolean(10), Labels(reader.GetString(11)),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(12)), (int)reader.GetInt64(13));

    /// <summary>hash, size, sensitive, labels, created_at.</summary>
    public static UploadRecord Upload(DbDataReader reader, string uploadId, string owner) => new(
        uploadId, owner, new BlobDigest(reader.GetString(0), reader.GetInt64(1)), reader.GetBoolean(2), Labels(reader.GetString(3)),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)));

    /// <summary>trace_id, event_id, hash, size, created_at.</summary>
    public static BlobReferenceRecord Reference(DbDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), new BlobDigest(reader.GetString(2), reader.GetInt64(3)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)));

    /// <summary>Every row <paramref name="command"/> selects (or returns), read by <paramref name="row"/>.</summary>
    public static async Task<List<T>> ReadAllAsync<T>(DbCommand command, Func<DbDataReader, T> row, CancellationToken cancellationToken)
    {
        var rows = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(row(reader));
        }

        return rows;
    }

    private static Dictionary<string, string> Labels(string json) => JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? [];
}
