using Npgsql;

namespace Microservices.Blob.Index;

/// <summary>
/// The PostgreSQL index's schema, as numbered steps recorded in blob_schema_version. Every name
/// starts with blob_ so the index can share a database with the registry's tables. Keys that
/// page are COLLATE "C": byte order, the order SQLite's BINARY collation gives, whatever the
/// database's locale, so both backends list in one order.
/// </summary>
internal static class PostgresBlobSchema
{
    // Arbitrary constant naming "blob index migration" among the database's advisory locks.
    private const long MigrationLockKey = 0x424C_4F42_4D49_4752;

    private static readonly string[] Steps =
    [
        """
        CREATE TABLE blob_objects (
            object_key text COLLATE "C" PRIMARY KEY, hash text NOT NULL, size bigint NOT NULL, stored_size bigint NOT NULL,
            media_type text NOT NULL, width integer NOT NULL, height integer NOT NULL,
            compression integer NOT NULL, key_id text, created_at bigint NOT NULL);
        CREATE TABLE blob_blobs (
            owner text COLLATE "C" NOT NULL, hash text COLLATE "C" NOT NULL, size bigint NOT NULL,
            object_key text COLLATE "C" NOT NULL REFERENCES blob_objects(object_key),
            sensitive boolean NOT NULL, labels text NOT NULL, created_at bigint NOT NULL, unreferenced_since bigint,
            PRIMARY KEY (owner, hash));
        CREATE INDEX blob_blobs_object ON blob_blobs(object_key);
        CREATE INDEX blob_blobs_unreferenced ON blob_blobs(unreferenced_since) WHERE unreferenced_since IS NOT NULL;
        CREATE TABLE blob_refs (
            owner text COLLATE "C" NOT NULL, trace_id text COLLATE "C" NOT NULL, event_id text COLLATE "C" NOT NULL,
            hash text COLLATE "C" NOT NULL, size bigint NOT NULL, created_at bigint NOT NULL,
            PRIMARY KEY (owner, trace_id, event_id, hash));
        CREATE INDEX blob_refs_hash ON blob_refs(owner, hash, trace_id, event_id);
        CREATE TABLE blob_uploads (
            upload_id text PRIMARY KEY, owner text NOT NULL, hash text NOT NULL, size bigint NOT NULL,
            sensitive boolean NOT NULL, labels text NOT NULL, created_at bigint NOT NULL);
        CREATE INDEX blob_uploads_owner ON blob_uploads(owner);
        CREATE INDEX blob_uploads_created ON blob_uploads(created_at);
        """,
    ];

    public static int Version => Steps.Length;

    /// <summary>
    /// Applies the missing steps and their version rows in one transaction (DDL is transactional
    /// in PostgreSQL, so a failed step leaves nothing behind). The advisory lock
    /// makes replicas that start together migrate one at a time.
    /// </summary>
    public static async Task MigrateAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({MigrationLockKey})", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction,
            "CREATE TABLE IF NOT EXISTS blob_schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())", cancellationToken).ConfigureAwait(false);
        await using var read = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM blob_schema_version", connection, transaction);
        var current = Convert.ToInt32(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        if (current > Steps.Length)
        {
            throw new InvalidOperationException(
                $"The PostgreSQL blob index is at schema version {current}, newer than this build knows ({Steps.Length}): run a newer blob service (nothing was changed).");
        }

        for (var version = current + 1; version <= Steps.Length; version++)
        {
            await ExecuteAsync(connection, transaction, Steps[version - 1], cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, transaction, $"INSERT INTO blob_schema_version (version) VALUES ({version})", cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
