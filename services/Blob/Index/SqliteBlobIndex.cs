using System.Text;
using System.Text.Json;
using Microservices.Blob.Digests;
using Microsoft.Data.Sqlite;

namespace Microservices.Blob.Index;

/// <summary>
/// The index in one SQLite file (WAL mode) next to the data. Writes are serialised by SQLite;
/// each mutation is one transaction, so a blob row never exists without its object row.
/// </summary>
internal sealed class SqliteBlobIndex : IBlobIndex
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS objects (
            object_key TEXT PRIMARY KEY, hash TEXT NOT NULL, size INTEGER NOT NULL, stored_size INTEGER NOT NULL,
            media_type TEXT NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL,
            compression INTEGER NOT NULL, key_id TEXT, created_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS blobs (
            owner TEXT NOT NULL, hash TEXT NOT NULL, size INTEGER NOT NULL, object_key TEXT NOT NULL REFERENCES objects(object_key),
            sensitive INTEGER NOT NULL, labels TEXT NOT NULL, created_at INTEGER NOT NULL, unreferenced_since INTEGER,
            PRIMARY KEY (owner, hash));
        CREATE INDEX IF NOT EXISTS blobs_object ON blobs(object_key);
        CREATE INDEX IF NOT EXISTS blobs_unreferenced ON blobs(unreferenced_since) WHERE unreferenced_since IS NOT NULL;
        CREATE TABLE IF NOT EXISTS refs (
            owner TEXT NOT NULL, trace_id TEXT NOT NULL, event_id TEXT NOT NULL, hash TEXT NOT NULL, size INTEGER NOT NULL,
            created_at INTEGER NOT NULL, PRIMARY KEY (owner, trace_id, event_id, hash));
        CREATE INDEX IF NOT EXISTS refs_hash ON refs(owner, hash, trace_id, event_id);
        CREATE TABLE IF NOT EXISTS uploads (
            upload_id TEXT PRIMARY KEY, owner TEXT NOT NULL, hash TEXT NOT NULL, size INTEGER NOT NULL,
            sensitive INTEGER NOT NULL, labels TEXT NOT NULL, created_at INTEGER NOT NULL);
        """;

    private readonly string _connectionString;

    static SqliteBlobIndex()
    {
        SQLitePCL.Batteries_V2.Init();
    }

    public SqliteBlobIndex(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 30 }.ToString();
    }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, "PRAGMA journal_mode=WAL;", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, Schema, cancellationToken).ConfigureAwait(false);
    }

    public async Task<StoredObject?> GetObjectAsync(string key, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, "SELECT object_key, hash, size, stored_size, media_type, width, height, compression, key_id, created_at FROM objects WHERE object_key = $k", ("$k", key));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadObject(reader, 0) : null;
    }

    public async Task<BlobRecord?> GetBlobAsync(string owner, string hash, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, """
            SELECT o.object_key, o.hash, o.size, o.stored_size, o.media_type, o.width, o.height, o.compression, o.key_id, o.created_at,
                   b.sensitive, b.labels, b.created_at, (SELECT COUNT(*) FROM refs r WHERE r.owner = b.owner AND r.hash = b.hash)
            FROM blobs b JOIN objects o ON o.object_key = b.object_key WHERE b.owner = $o AND b.hash = $h
            """, ("$o", owner), ("$h", hash));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return new BlobRecord(owner, ReadObject(reader, 0), reader.GetInt64(10) != 0,
            JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(11)) ?? [],
            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(12)), reader.GetInt32(13));
    }

    public async Task<IReadOnlyDictionary<string, long>> OwnedAsync(string owner, IReadOnlyCollection<string> hashes, CancellationToken cancellationToken)
    {
        var owned = new Dictionary<string, long>(StringComparer.Ordinal);
        if (hashes.Count == 0)
        {
            return owned;
        }

        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        // json_each keeps it one statement for any count (no parameter limit).
        await using var command = Command(connection, null, "SELECT hash, size FROM blobs WHERE owner = $o AND hash IN (SELECT value FROM json_each($hashes))",
            ("$o", owner), ("$hashes", JsonSerializer.Serialize(hashes)));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            owned[reader.GetString(0)] = reader.GetInt64(1);
        }

        return owned;
    }

    public async Task AddBlobAsync(string owner, StoredObject stored, bool sensitive, IReadOnlyDictionary<string, string> labels, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, """
            INSERT OR IGNORE INTO objects (object_key, hash, size, stored_size, media_type, width, height, compression, key_id, created_at)
            VALUES ($k, $h, $s, $ss, $m, $w, $ht, $c, $key, $t)
            """, cancellationToken,
            ("$k", stored.Key), ("$h", stored.Digest.Hash), ("$s", stored.Digest.Size), ("$ss", stored.StoredSize), ("$m", stored.MediaType),
            ("$w", stored.Width), ("$ht", stored.Height), ("$c", (int)stored.Compression), ("$key", stored.KeyId), ("$t", stored.CreatedAt.ToUnixTimeMilliseconds())).ConfigureAwait(false);
        // A new blob starts unreferenced: the grace period gives its first reference time to arrive.
        await ExecuteAsync(connection, transaction, """
            INSERT OR IGNORE INTO blobs (owner, hash, size, object_key, sensitive, labels, created_at, unreferenced_since)
            VALUES ($o, $h, $s, $k, $sens, $l, $t, $t)
            """, cancellationToken,
            ("$o", owner), ("$h", stored.Digest.Hash), ("$s", stored.Digest.Size), ("$k", stored.Key), ("$sens", sensitive ? 1 : 0),
            ("$l", JsonSerializer.Serialize(labels)), ("$t", now.ToUnixTimeMilliseconds())).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<int> AddReferencesAsync(string owner, IReadOnlyList<(string TraceId, string EventId, BlobDigest Digest)> references, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var added = 0;
        foreach (var (traceId, eventId, digest) in references)
        {
            added += await ExecuteAsync(connection, transaction, "INSERT OR IGNORE INTO refs (owner, trace_id, event_id, hash, size, created_at) VALUES ($o, $t, $e, $h, $s, $now)",
                cancellationToken, ("$o", owner), ("$t", traceId), ("$e", eventId), ("$h", digest.Hash), ("$s", digest.Size), ("$now", now.ToUnixTimeMilliseconds())).ConfigureAwait(false);
            await ExecuteAsync(connection, transaction, "UPDATE blobs SET unreferenced_since = NULL WHERE owner = $o AND hash = $h AND unreferenced_since IS NOT NULL",
                cancellationToken, ("$o", owner), ("$h", digest.Hash)).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return added;
    }

    public async Task<int> RemoveReferencesAsync(string owner, IReadOnlyList<(string TraceId, string EventId, BlobDigest Digest)> references, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var removed = 0;
        foreach (var (traceId, eventId, digest) in references)
        {
            removed += await ExecuteAsync(connection, transaction, "DELETE FROM refs WHERE owner = $o AND trace_id = $t AND event_id = $e AND hash = $h",
                cancellationToken, ("$o", owner), ("$t", traceId), ("$e", eventId), ("$h", digest.Hash)).ConfigureAwait(false);
            await ExecuteAsync(connection, transaction, """
                UPDATE blobs SET unreferenced_since = $now WHERE owner = $o AND hash = $h AND unreferenced_since IS NULL
                AND NOT EXISTS (SELECT 1 FROM refs r WHERE r.owner = $o AND r.hash = $h)
                """, cancellationToken, ("$o", owner), ("$h", digest.Hash), ("$now", now.ToUnixTimeMilliseconds())).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return removed;
    }

    public async Task<ReferencePage> ListReferencesAsync(string owner, string? traceId, string? hash, int pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        var after = DecodeToken(pageToken);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, """
            SELECT trace_id, event_id, hash, size, created_at FROM refs
            WHERE owner = $o AND ($t IS NULL OR trace_id = $t) AND ($h IS NULL OR hash = $h)
              AND ($at IS NULL OR (trace_id, event_id, hash) > ($at, $ae, $ah))
            ORDER BY trace_id, event_id, hash LIMIT $n
            """, ("$o", owner), ("$t", traceId), ("$h", hash), ("$at", after?.TraceId), ("$ae", after?.EventId), ("$ah", after?.Hash), ("$n", pageSize + 1));
        var page = new List<BlobReferenceRecord>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                page.Add(new BlobReferenceRecord(reader.GetString(0), reader.GetString(1), new BlobDigest(reader.GetString(2), reader.GetInt64(3)),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4))));
            }
        }

        if (page.Count <= pageSize)
        {
            return new ReferencePage(page, null);
        }

        page.RemoveAt(page.Count - 1);
        var last = page[^1];
        return new ReferencePage(page, EncodeToken(last.TraceId, last.EventId, last.Digest.Hash));
    }

    public async Task<(IReadOnlyList<(string Owner, string Hash)> Collected, IReadOnlyList<string> OrphanKeys)> CollectAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // The NOT EXISTS re-check makes a reference added at any time protect its blob.
        const string Expired = """
            FROM blobs WHERE unreferenced_since IS NOT NULL AND unreferenced_since < $cutoff
            AND NOT EXISTS (SELECT 1 FROM refs r WHERE r.owner = blobs.owner AND r.hash = blobs.hash)
            """;
        var collected = new List<(string Owner, string Hash)>();
        await using (var command = Command(connection, transaction, "SELECT owner, hash " + Expired, ("$cutoff", cutoff.ToUnixTimeMilliseconds())))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                collected.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        await ExecuteAsync(connection, transaction, "DELETE " + Expired, cancellationToken, ("$cutoff", cutoff.ToUnixTimeMilliseconds())).ConfigureAwait(false);
        var orphans = new List<string>();
        await using (var command = Command(connection, transaction, "SELECT object_key FROM objects o WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.object_key = o.object_key)"))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                orphans.Add(reader.GetString(0));
            }
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return (collected, orphans);
    }

    public async Task<bool> DeleteObjectIfUnusedAsync(string key, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ExecuteAsync(connection, null, "DELETE FROM objects WHERE object_key = $k AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.object_key = $k)",
            cancellationToken, ("$k", key)).ConfigureAwait(false) > 0;
    }

    public async Task AddUploadAsync(UploadRecord upload, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, "INSERT INTO uploads (upload_id, owner, hash, size, sensitive, labels, created_at) VALUES ($id, $o, $h, $s, $sens, $l, $t)",
            cancellationToken, ("$id", upload.UploadId), ("$o", upload.Owner), ("$h", upload.Digest.Hash), ("$s", upload.Digest.Size),
            ("$sens", upload.Sensitive ? 1 : 0), ("$l", JsonSerializer.Serialize(upload.Labels)), ("$t", upload.CreatedAt.ToUnixTimeMilliseconds())).ConfigureAwait(false);
    }

    public async Task<UploadRecord?> GetUploadAsync(string owner, string uploadId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, "SELECT hash, size, sensitive, labels, created_at FROM uploads WHERE upload_id = $id AND owner = $o", ("$id", uploadId), ("$o", owner));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new UploadRecord(uploadId, owner, new BlobDigest(reader.GetString(0), reader.GetInt64(1)), reader.GetInt64(2) != 0,
                JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(3)) ?? [], DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)))
            : null;
    }

    public async Task DeleteUploadAsync(string uploadId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, "DELETE FROM uploads WHERE upload_id = $id", cancellationToken, ("$id", uploadId)).ConfigureAwait(false);
    }

    private static StoredObject ReadObject(SqliteDataReader reader, int at) => new(
        reader.GetString(at), new BlobDigest(reader.GetString(at + 1), reader.GetInt64(at + 2)), reader.GetInt64(at + 3), reader.GetString(at + 4),
        reader.GetInt32(at + 5), reader.GetInt32(at + 6), (StoredCompression)reader.GetInt32(at + 7), reader.IsDBNull(at + 8) ? null : reader.GetString(at + 8),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(at + 9)));

    private static string EncodeToken(string traceId, string eventId, string hash) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new[] { traceId, eventId, hash })));

    private static (string TraceId, string EventId, string Hash)? DecodeToken(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        try
        {
            var parts = JsonSerializer.Deserialize<string[]>(Encoding.UTF8.GetString(Convert.FromBase64String(token)));
            if (parts is { Length: 3 })
            {
                return (parts[0], parts[1], parts[2]);
            }
        }
        catch (Exception error) when (error is FormatException or JsonException)
        {
        }

        throw new FormatException("page_token is not a token this service returned");
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    private static async Task<int> ExecuteAsync(SqliteConnection connection, SqliteTransaction? transaction, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
