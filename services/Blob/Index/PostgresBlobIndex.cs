using System.Text.Json;
using Microservices.Blob.Digests;
using Npgsql;

namespace Microservices.Blob.Index;

/// <summary>
/// The index in PostgreSQL, shared by every replica (Blob:Index:Kind=postgres). Same rows, same
/// semantics and same page tokens as <see cref="SqliteBlobIndex"/>. SQLite serialises writers;
/// here each mutation is one READ COMMITTED transaction whose conditions are re-checked on the
/// row it changes (a collection's DELETE skips a blob a concurrent reference just claimed), and
/// what spans the index and the object storage (a put's bytes vs. the collector's delete) is
/// serialised by <see cref="Locks"/>, advisory locks every replica sees.
/// </summary>
internal sealed class PostgresBlobIndex : IBlobIndex, IAsyncDisposable
{
    /// <summary>An owner's blob with its object and reference count; <see cref="IndexRows.Blob"/> reads a row of it.</summary>
    private const string SelectBlobs = """
        SELECT o.object_key, o.hash, o.size, o.stored_size, o.media_type, o.width, o.height, o.compression, o.key_id, o.created_at,
               b.sensitive, b.labels, b.created_at, (SELECT COUNT(*) FROM blob_refs r WHERE r.owner = b.owner AND r.hash = b.hash)
        FROM blob_blobs b JOIN blob_objects o ON o.object_key = b.object_key
        """;

    // Deadlocks between two writers (a collection's DELETE vs. a batch of references) are
    // resolved by PostgreSQL aborting one; both are safe to run again from the start.
    private const int Attempts = 4;

    // The (int, int) advisory lock space, apart from the objects' one-key locks: ASCII "BLOB".
    private const int QuotaLockSpace = 0x424C4F42;

    private readonly NpgsqlDataSource _dataSource;
    private readonly NpgsqlDataSource _lockSource;

    /// <exception cref="InvalidOperationException">No connection string.</exception>
    public PostgresBlobIndex(string connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException("Blob:Index:Kind is 'postgres' but Blob:Index:ConnectionString is empty: set it (an Npgsql connection string, from a Secret), or use Blob:Index:Kind=sqlite for one instance.");
        }

        _dataSource = NpgsqlDataSource.Create(connectionString);
        // A pool of their own: a put holds its lock's connection while it writes the index, and
        // lock holders sharing the index's pool could take every connection and wait forever.
        _lockSource = NpgsqlDataSource.Create(connectionString);
        Locks = new PostgresAdvisoryLocks(_lockSource);
    }

    public IObjectLocks Locks { get; }

    public Task InitializeAsync(CancellationToken cancellationToken) => PostgresBlobSchema.MigrateAsync(_dataSource, cancellationToken);

    public async Task<StoredObject?> GetObjectAsync(string key, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            "SELECT object_key, hash, size, stored_size, media_type, width, height, compression, key_id, created_at FROM blob_objects WHERE object_key = @k");
        command.Parameters.AddWithValue("k", key);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? IndexRows.Object(reader, 0) : null;
    }

    public async Task<BlobRecord?> GetBlobAsync(string owner, string hash, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(SelectBlobs + " WHERE b.owner = @o AND b.hash = @h");
        command.Parameters.AddWithValue("o", owner);
        command.Parameters.AddWithValue("h", hash);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? IndexRows.Blob(reader, owner) : null;
    }

    public async Task<BlobPage> ListBlobsAsync(string owner, int pageSize, string? pageToken, bool withTotals, CancellationToken cancellationToken)
    {
        var after = PageTokens.ReadBlobs(owner, pageToken) ?? "";
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // REPEATABLE READ: the totals and the page come from one snapshot, as SQLite's read transaction gives.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
        BlobTotals? totals = null;
        if (withTotals)
        {
            await using var count = new NpgsqlCommand("SELECT COUNT(*), COALESCE(SUM(size), 0)::bigint FROM blob_blobs WHERE owner = @o", connection, transaction);
            count.Parameters.AddWithValue("o", owner);
            await using var totalsReader = await count.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await totalsReader.ReadAsync(cancellationToken).ConfigureAwait(false);
            totals = new BlobTotals(totalsReader.GetInt64(0), totalsReader.GetInt64(1));
        }

        await using var command = new NpgsqlCommand(SelectBlobs + " WHERE b.owner = @o AND b.hash > @after ORDER BY b.hash LIMIT @n", connection, transaction);
        command.Parameters.AddWithValue("o", owner);
        command.Parameters.AddWithValue("after", after);
        command.Parameters.AddWithValue("n", pageSize + 1);
        var page = await IndexRows.ReadAllAsync(command, reader => IndexRows.Blob(reader, owner), cancellationToken).ConfigureAwait(false);

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return IndexPages.Blobs(owner, page, pageSize, totals);
    }

    public async Task<long> UsageAsync(string owner, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("SELECT COALESCE(SUM(size), 0)::bigint FROM blob_blobs WHERE owner = @o");
        command.Parameters.AddWithValue("o", owner);
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    public async Task<IReadOnlyDictionary<string, long>> OwnedAsync(string owner, IReadOnlyCollection<string> hashes, CancellationToken cancellationToken)
    {
        var owned = new Dictionary<string, long>(StringComparer.Ordinal);
        if (hashes.Count == 0)
        {
            return owned;
        }

        // One array parameter keeps it one statement for any count.
        await using var command = _dataSource.CreateCommand("SELECT hash, size FROM blob_blobs WHERE owner = @o AND hash = ANY(@hashes)");
        command.Parameters.AddWithValue("o", owner);
        command.Parameters.AddWithValue("hashes", hashes.ToArray());
        foreach (var (hash, size) in await IndexRows.ReadAllAsync(command, reader => (reader.GetString(0), reader.GetInt64(1)), cancellationToken).ConfigureAwait(false))
        {
            owned[hash] = size;
        }

        return owned;
    }

    public Task<long?> AddBlobAsync(string owner, StoredObject stored, bool sensitive, IReadOnlyDictionary<string, string> labels, long quotaBytes, DateTimeOffset now, CancellationToken cancellationToken) =>
        InTransactionAsync(async (connection, transaction) =>
        {
            await using (var command = new NpgsqlCommand("""
                INSERT INTO blob_objects (object_key, hash, size, stored_size, media_type, width, height, compression, key_id, created_at)
                VALUES (@k, @h, @s, @ss, @m, @w, @ht, @c, @key, @t) ON CONFLICT DO NOTHING
                """, connection, transaction))
            {
                command.Parameters.AddWithValue("k", stored.Key);
                command.Parameters.AddWithValue("h", stored.Digest.Hash);
                command.Parameters.AddWithValue("s", stored.Digest.Size);
                command.Parameters.AddWithValue("ss", stored.StoredSize);
                command.Parameters.AddWithValue("m", stored.MediaType);
                command.Parameters.AddWithValue("w", stored.Width);
                command.Parameters.AddWithValue("ht", stored.Height);
                command.Parameters.AddWithValue("c", (int)stored.Compression);
                command.Parameters.Add(new NpgsqlParameter<string?>("key", stored.KeyId));
                command.Parameters.AddWithValue("t", stored.CreatedAt.ToUnixTimeMilliseconds());
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            if (quotaBytes > 0 && await OverQuotaAsync(connection, transaction, owner, stored.Digest, quotaBytes, cancellationToken).ConfigureAwait(false) is { } held)
            {
                return (long?)held;
            }

            // A new blob starts unreferenced: the grace period gives its first reference time to arrive.
            await using (var command = new NpgsqlCommand("""
                INSERT INTO blob_blobs (owner, hash, size, object_key, sensitive, labels, created_at, unreferenced_since)
                VALUES (@o, @h, @s, @k, @sens, @l, @t, @t) ON CONFLICT DO NOTHING
                """, connection, transaction))
            {
                command.Parameters.AddWithValue("o", owner);
                command.Parameters.AddWithValue("h", stored.Digest.Hash);
                command.Parameters.AddWithValue("s", stored.Digest.Size);
                command.Parameters.AddWithValue("k", stored.Key);
                command.Parameters.AddWithValue("sens", sensitive);
                command.Parameters.AddWithValue("l", JsonSerializer.Serialize(labels));
                command.Parameters.AddWithValue("t", now.ToUnixTimeMilliseconds());
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return null;
        }, cancellationToken);

    /// <summary>
    /// The owner's usage when a new blob of <paramref name="digest"/> would take it over the quota;
    /// null otherwise (or when the owner holds it). Under read committed two writers would both read
    /// the old sum, so the owner's transaction lock (held to commit) makes them take turns.
    /// </summary>
    private static async Task<long?> OverQuotaAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string owner, BlobDigest digest, long quotaBytes, CancellationToken cancellationToken)
    {
        await using (var serialize = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@space, hashtext(@o))", connection, transaction))
        {
            serialize.Parameters.AddWithValue("space", QuotaLockSpace);
            serialize.Parameters.AddWithValue("o", owner);
            await serialize.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using var usage = new NpgsqlCommand(
            "SELECT COALESCE(SUM(size), 0)::bigint, COALESCE(bool_or(hash = @h), false) FROM blob_blobs WHERE owner = @o", connection, transaction);
        usage.Parameters.AddWithValue("o", owner);
        usage.Parameters.AddWithValue("h", digest.Hash);
        await using var reader = await usage.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        var (held, owned) = (reader.GetInt64(0), reader.GetBoolean(1));
        return !owned && held + digest.Size > quotaBytes ? held : null;
    }

    public Task<int> AddReferencesAsync(string owner, IReadOnlyList<(string TraceId, string EventId, BlobDigest Digest)> references, DateTimeOffset now, CancellationToken cancellationToken) =>
        InTransactionAsync(async (connection, transaction) =>
        {
            var added = 0;
            // In one order, so two batches lock the same rows in the same order.
            foreach (var (traceId, eventId, digest) in InLockOrder(references))
            {
                // The claim first: it takes the blob's row lock (a collection's DELETE of it waits, then
                // skips it) and, being unconditional, says whether the blob is still there.
                await using (var claim = new NpgsqlCommand("UPDATE blob_blobs SET unreferenced_since = NULL WHERE owner = @o AND hash = @h", connection, transaction))
                {
                    claim.Parameters.AddWithValue("o", owner);
                    claim.Parameters.AddWithValue("h", digest.Hash);
                    if (await claim.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
                    {
                        throw SqliteBlobIndex.BlobGone(digest);
                    }
                }

                await using var insert = new NpgsqlCommand(
                    "INSERT INTO blob_refs (owner, trace_id, event_id, hash, size, created_at) VALUES (@o, @t, @e, @h, @s, @now) ON CONFLICT DO NOTHING", connection, transaction);
                insert.Parameters.AddWithValue("o", owner);
                insert.Parameters.AddWithValue("t", traceId);
                insert.Parameters.AddWithValue("e", eventId);
                insert.Parameters.AddWithValue("h", digest.Hash);
                insert.Parameters.AddWithValue("s", digest.Size);
                insert.Parameters.AddWithValue("now", now.ToUnixTimeMilliseconds());
                added += await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return added;
        }, cancellationToken);

    public Task<int> RemoveReferencesAsync(string owner, IReadOnlyList<(string TraceId, string EventId, BlobDigest Digest)> references, DateTimeOffset now, CancellationToken cancellationToken) =>
        InTransactionAsync(async (connection, transaction) =>
        {
            var removed = 0;
            foreach (var (traceId, eventId, digest) in InLockOrder(references))
            {
                // The blob's row lock first: a concurrent AddReferences of it then commits before (or
                // waits for) this, and the NOT EXISTS below, a statement later, sees its reference.
                await using (var lockRow = new NpgsqlCommand("SELECT 1 FROM blob_blobs WHERE owner = @o AND hash = @h FOR UPDATE", connection, transaction))
                {
                    lockRow.Parameters.AddWithValue("o", owner);
                    lockRow.Parameters.AddWithValue("h", digest.Hash);
                    await lockRow.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await using (var delete = new NpgsqlCommand(
                    "DELETE FROM blob_refs WHERE owner = @o AND trace_id = @t AND event_id = @e AND hash = @h", connection, transaction))
                {
                    delete.Parameters.AddWithValue("o", owner);
                    delete.Parameters.AddWithValue("t", traceId);
                    delete.Parameters.AddWithValue("e", eventId);
                    delete.Parameters.AddWithValue("h", digest.Hash);
                    removed += await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await using var release = new NpgsqlCommand("""
                    UPDATE blob_blobs SET unreferenced_since = @now WHERE owner = @o AND hash = @h AND unreferenced_since IS NULL
                    AND NOT EXISTS (SELECT 1 FROM blob_refs r WHERE r.owner = @o AND r.hash = @h)
                    """, connection, transaction);
                release.Parameters.AddWithValue("o", owner);
                release.Parameters.AddWithValue("h", digest.Hash);
                release.Parameters.AddWithValue("now", now.ToUnixTimeMilliseconds());
                await release.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return removed;
        }, cancellationToken);

    public async Task<ReferencePage> ListReferencesAsync(string owner, string? traceId, string? hash, int pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        var after = IndexPages.ReferencesAfter(owner, traceId, hash, pageToken);

        await using var command = _dataSource.CreateCommand(IndexPages.ReferencesQuery("blob_refs", '@', traceId is not null, hash is not null, after is not null));
        command.Parameters.AddWithValue("o", owner);
        command.Parameters.AddWithValue("n", pageSize + 1);
        if (traceId is not null)
        {
            command.Parameters.AddWithValue("t", traceId);
        }

        if (hash is not null)
        {
            command.Parameters.AddWithValue("h", hash);
        }

        if (after is { } from)
        {
            // Only the ones the statement names: the filtered columns are left out of the keyset.
            if (traceId is null)
            {
                command.Parameters.AddWithValue("at", from.TraceId);
            }

            command.Parameters.AddWithValue("ae", from.EventId);
            if (hash is null)
            {
                command.Parameters.AddWithValue("ah", from.Hash);
            }
        }

        var page = await IndexRows.ReadAllAsync(command, IndexRows.Reference, cancellationToken).ConfigureAwait(false);

        return IndexPages.References(owner, page, pageSize);
    }

    public Task<(IReadOnlyList<(string Owner, string Hash)> Collected, IReadOnlyList<string> OrphanKeys)> CollectAsync(DateTimeOffset cutoff, CancellationToken cancellationToken) =>
        InTransactionAsync<(IReadOnlyList<(string Owner, string Hash)>, IReadOnlyList<string>)>(async (connection, transaction) =>
        {
            // One DELETE … RETURNING: the conditions are re-checked on each row as it is deleted, so a
            // reference committed meanwhile (it clears unreferenced_since) keeps its blob.
            await using var delete = new NpgsqlCommand("""
                DELETE FROM blob_blobs b WHERE b.unreferenced_since IS NOT NULL AND b.unreferenced_since < @cutoff
                AND NOT EXISTS (SELECT 1 FROM blob_refs r WHERE r.owner = b.owner AND r.hash = b.hash)
                RETURNING b.owner, b.hash
                """, connection, transaction);
            delete.Parameters.AddWithValue("cutoff", cutoff.ToUnixTimeMilliseconds());
            var collected = await IndexRows.ReadAllAsync(delete, reader => (reader.GetString(0), reader.GetString(1)), cancellationToken).ConfigureAwait(false);

            await using var select = new NpgsqlCommand(
                "SELECT object_key FROM blob_objects o WHERE NOT EXISTS (SELECT 1 FROM blob_blobs b WHERE b.object_key = o.object_key)", connection, transaction);
            var orphans = await IndexRows.ReadAllAsync(select, reader => reader.GetString(0), cancellationToken).ConfigureAwait(false);

            return (collected, orphans);
        }, cancellationToken);

    public async Task<bool> DeleteObjectIfUnusedAsync(string key, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            "DELETE FROM blob_objects WHERE object_key = @k AND NOT EXISTS (SELECT 1 FROM blob_blobs b WHERE b.object_key = @k)");
        command.Parameters.AddWithValue("k", key);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    public async Task AddUploadAsync(UploadRecord upload, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            "INSERT INTO blob_uploads (upload_id, owner, hash, size, sensitive, labels, created_at) VALUES (@id, @o, @h, @s, @sens, @l, @t)");
        command.Parameters.AddWithValue("id", upload.UploadId);
        command.Parameters.AddWithValue("o", upload.Owner);
        command.Parameters.AddWithValue("h", upload.Digest.Hash);
        command.Parameters.AddWithValue("s", upload.Digest.Size);
        command.Parameters.AddWithValue("sens", upload.Sensitive);
        command.Parameters.AddWithValue("l", JsonSerializer.Serialize(upload.Labels));
        command.Parameters.AddWithValue("t", upload.CreatedAt.ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<UploadRecord?> GetUploadAsync(string owner, string uploadId, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("SELECT hash, size, sensitive, labels, created_at FROM blob_uploads WHERE upload_id = @id AND owner = @o");
        command.Parameters.AddWithValue("id", uploadId);
        command.Parameters.AddWithValue("o", owner);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? IndexRows.Upload(reader, uploadId, owner)
            : null;
    }

    public Task<IReadOnlyList<string>> UploadIdsAsync(string owner, CancellationToken cancellationToken) =>
        UploadIdsWhereAsync("owner = @v", owner, cancellationToken);

    public Task<IReadOnlyList<string>> UploadsCreatedBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken) =>
        UploadIdsWhereAsync("created_at < @v", cutoff.ToUnixTimeMilliseconds(), cancellationToken);

    private async Task<IReadOnlyList<string>> UploadIdsWhereAsync(string condition, object value, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("SELECT upload_id FROM blob_uploads WHERE " + condition);
        command.Parameters.AddWithValue("v", value);
        return await IndexRows.ReadAllAsync(command, reader => reader.GetString(0), cancellationToken).ConfigureAwait(false);
    }

    public async Task DeleteUploadAsync(string uploadId, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("DELETE FROM blob_uploads WHERE upload_id = @id");
        command.Parameters.AddWithValue("id", uploadId);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _lockSource.DisposeAsync().ConfigureAwait(false);
        await _dataSource.DisposeAsync().ConfigureAwait(false);
    }

    private static IEnumerable<(string TraceId, string EventId, BlobDigest Digest)> InLockOrder(IReadOnlyList<(string TraceId, string EventId, BlobDigest Digest)> references) =>
        references.OrderBy(r => r.Digest.Hash, StringComparer.Ordinal).ThenBy(r => r.TraceId, StringComparer.Ordinal).ThenBy(r => r.EventId, StringComparer.Ordinal);

    /// <summary>One transaction, run again from the start when PostgreSQL aborted it to break a deadlock.</summary>
    private async Task<T> InTransactionAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var result = await work(connection, transaction).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return result;
            }
            catch (PostgresException error) when (error.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure && attempt < Attempts)
            {
                // The transaction is rolled back by its disposal; the next attempt starts afresh.
            }
        }
    }
}
