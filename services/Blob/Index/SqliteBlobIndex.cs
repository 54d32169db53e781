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

    /// <summary>An owner's blob with its object and reference count; <see cref="IndexRows.Blob"/> reads a row of it.</summary>
    private const string SelectBlobs = """
        SELECT o.object_key, o.hash, o.size, o.stored_size, o.media_type, o.width, o.height, o.compression, o.key_id, o.created_at,
               b.sensitive, b.labels, b.created_at, (SELECT COUNT(*) FROM refs r WHERE r.owner = b.owner AND r.hash = b.hash)
        FROM blobs b JOIN objects o ON o.object_key = b.object_key
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

    /// <summary>A SQLite index serves one process, so in-process locks span everyone who shares it.</summary>
    public IObjectLocks Locks { get; } = new InProcessObjectLocks();

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
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? IndexRows.Object(reader, 0) : null;
    }

    public async Task<BlobRecord?> GetBlobAsync(string owner, string hash, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, SelectBlobs + " WHERE b.owner = $o AND b.hash = $h", ("$o", owner), ("$h", hash));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? IndexRows.Blob(reader, owner) : null;
    }

    public async Task<BlobPage> ListBlobsAsync(string owner, int pageSize, string? pageToken, bool withTotals, CancellationToken cancellationToken)
    {
        // Every hash is 64 hex characters, so '' sorts before all of them: one statement for every page.
        var after = PageTokens.ReadBlobs(owner, pageToken) ?? "";
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        // One read transaction, so in WAL mode the totals and the page are of the same snapshot. Deferred,
        // as a read must not take the write lock (the default is BEGIN IMMEDIATE); that overload has no async twin.
        await using var transaction = connection.BeginTransaction(deferred: true);
        BlobTotals? totals = null;
        if (withTotals)
        {
            await using var count = Command(connection, transaction, "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM blobs WHERE owner = $o", ("$o", owner));
            await using var totalsReader = await count.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await totalsReader.ReadAsync(cancellationToken).ConfigureAwait(false);
            totals = new BlobTotals(totalsReader.GetInt64(0), totalsReader.GetInt64(1));
        }

        // The primary key (owner, hash) serves both the range and the order.
        await using var command = Command(connection, transaction, SelectBlobs + " WHERE b.owner = $o AND b.hash > $after ORDER BY b.hash LIMIT $n",
            ("$o", owner), ("$after", after), ("$n", pageSize + 1));
        var page = await IndexRows.ReadAllAsync(command, reader => IndexRows.Blob(reader, owner), cancellationToken).ConfigureAwait(false);

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return IndexPages.Blobs(owner, page, pageSize, totals);
    }

    public async Task<long> UsageAsync(string owner, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, "SELECT COALESCE(SUM(size), 0) FROM blobs WHERE owner = $o", ("$o", owner));
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
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
        foreach (var (hash, size) in await IndexRows.ReadAllAsync(command, reader => (reader.GetString(0), reader.GetInt64(1)), cancellationToken).ConfigureAwait(false))
        {
            owned[hash] = size;
        }

        return owned;
    }

    public async Task<long?> AddBlobAsync(string owner, StoredObject stored, bool sensitive, IReadOnlyDictionary<string, string> labels, long quotaBytes, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        // Microsoft.Data.Sqlite begins IMMEDIATE: the write lock comes first, so no other writer runs between the quota read below and the insert.
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, """
            INSERT OR IGNORE INTO objects (object_key, hash, size, stored_size, media_type, width, height, compression, key_id, created_at)
            VALUES ($k, $h, $s, $ss, $m, $w, $ht, $c, $key, $t)
            """, cancellationToken,
            ("$k", stored.Key), ("$h", stored.Digest.Hash), ("$s", stored.Digest.Size), ("$ss", stored.StoredSize), ("$m", stored.MediaType),
            ("$w", stored.Width), ("$ht", stored.Height), ("$c", (int)stored.Compression), ("$key", stored.KeyId), ("$t", stored.CreatedAt.ToUnixTimeMilliseconds())).ConfigureAwait(false);
        if (quotaBytes > 0 && await OverQuotaAsync(connection, transaction, owner, stored.Digest, quotaBytes, cancellationToken).ConfigureAwait(false) is { } held)
        {
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return held;
        }

        // A new blob starts unreferenced: the grace period gives its first reference time to arrive.
        await ExecuteAsync(connection, transaction, """
            INSERT OR IGNORE INTO blobs (owner, hash, size, object_key, sensitive, labels, created_at, unreferenced_since)
            VALUES ($o, $h, $s, $k, $sens, $l, $t, $t)
            """, cancellationToken,
            ("$o", owner), ("$h", stored.Digest.Hash), ("$s", stored.Digest.Size), ("$k", stored.Key), ("$sens", sensitive ? 1 : 0),
            ("$l", JsonSerializer.Serialize(labels)), ("$t", now.ToUnixTimeMilliseconds())).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return null;
    }

    /// <summary>The owner's usage when a new blob of <paramref name="digest"/> would take it over the quota; null otherwise (or when the owner holds it).</summary>
    private static async Task<long?> OverQuotaAsync(SqliteConnection connection, SqliteTransaction transaction, string owner, BlobDigest digest, long quotaBytes, CancellationToken cancellationToken)
    {
        await using var usage = Command(connection, transaction, "SELECT COALESCE(SUM(size), 0), COALESCE(MAX(hash = $h), 0) FROM blobs WHERE owner = $o", ("$o", owner), ("$h", digest.Hash));
        await using var reader = await usage.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        var (held, owned) = (reader.GetInt64(0), reader.GetInt64(1) == 1);
        return !owned && held + digest.Size > quotaBytes ? held : null;
    }

    public async Task<int> AddReferencesAsync(string owner, IReadOnlyList<(string TraceId, string EventId, BlobDigest Digest)> references, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var added = 0;
        foreach (var (traceId, eventId, digest) in references)
        {
            // Unconditional, so it also says whether the blob is still there (a collection may have run since the caller's check).
            if (await ExecuteAsync(connection, transaction, "UPDATE blobs SET unreferenced_since = NULL WHERE owner = $o AND hash = $h",
                cancellationToken, ("$o", owner), ("$h", digest.Hash)).ConfigureAwait(false) == 0)
            {
                throw BlobGone(digest);
            }

            added += await ExecuteAsync(connection, transaction, "INSERT OR IGNORE INTO refs (owner, trace_id, event_id, hash, size, created_at) VALUES ($o, $t, $e, $h, $s, $now)",
                cancellationToken, ("$o", owner), ("$t", traceId), ("$e", eventId), ("$h", digest.Hash), ("$s", digest.Size), ("$now", now.ToUnixTimeMilliseconds())).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return added;
    }

    internal static KeyNotFoundException BlobGone(BlobDigest digest) =>
        new($"blob sha256:{digest.Hash} (size {digest.Size}) not found: upload it before referencing it");

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
        var after = IndexPages.ReferencesAfter(owner, traceId, hash, pageToken);

        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, IndexPages.ReferencesQuery("refs", '$', traceId is not null, hash is not null, after is not null),
            ("$o", owner), ("$t", traceId), ("$h", hash), ("$at", after?.TraceId), ("$ae", after?.EventId), ("$ah", after?.Hash), ("$n", pageSize + 1));
        var page = await IndexRows.ReadAllAsync(command, IndexRows.Reference, cancellationToken).ConfigureAwait(false);

        return IndexPages.References(owner, page, pageSize);
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
        await using var expired = Command(connection, transaction, "SELECT owner, hash " + Expired, ("$cutoff", cutoff.ToUnixTimeMilliseconds()));
        var collected = await IndexRows.ReadAllAsync(expired, reader => (reader.GetString(0), reader.GetString(1)), cancellationToken).ConfigureAwait(false);

        await ExecuteAsync(connection, transaction, "DELETE " + Expired, cancellationToken, ("$cutoff", cutoff.ToUnixTimeMilliseconds())).ConfigureAwait(false);
        await using var unused = Command(connection, transaction, "SELECT object_key FROM objects o WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.object_key = o.object_key)");
        var orphans = await IndexRows.ReadAllAsync(unused, reader => reader.GetString(0), cancellationToken).ConfigureAwait(false);

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
            ? IndexRows.Upload(reader, uploadId, owner)
            : null;
    }

    public Task<IReadOnlyList<string>> UploadIdsAsync(string owner, CancellationToken cancellationToken) =>
        UploadIdsWhereAsync("owner = $v", owner, cancellationToken);

    public Task<IReadOnlyList<string>> UploadsCreatedBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken) =>
        UploadIdsWhereAsync("created_at < $v", cutoff.ToUnixTimeMilliseconds(), cancellationToken);

    private async Task<IReadOnlyList<string>> UploadIdsWhereAsync(string condition, object value, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, "SELECT upload_id FROM uploads WHERE " + condition, ("$v", value));
        return await IndexRows.ReadAllAsync(command, reader => reader.GetString(0), cancellationToken).ConfigureAwait(false);
    }

    public async Task DeleteUploadAsync(string uploadId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, "DELETE FROM uploads WHERE upload_id = $id", cancellationToken, ("$id", uploadId)).ConfigureAwait(false);
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
