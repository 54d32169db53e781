using System.Globalization;
using Microservices.Registry.Repositories;
using Microsoft.Data.Sqlite;

namespace Microservices.Registry.Migrations;

/// <summary>
/// Brings a SQLite database to the latest schema, as Cortex did for cortex.db: read the
/// version from schema_version, take an online backup, then run each pending migration in its
/// own transaction. If one fails, the whole database is restored from that backup, so a failed
/// upgrade leaves exactly what was there before (including migrations of the same run that had
/// already committed) and the service refuses to start with the reason.
/// </summary>
internal sealed class SqliteMigrator
{
    private readonly IReadOnlyList<Migration> _migrations;
    private readonly TimeProvider _time;

    public SqliteMigrator(IReadOnlyList<Migration> migrations, TimeProvider time)
    {
        for (var i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version != i + 1)
            {
                throw new ArgumentException($"Migration versions must be 1..N in order; position {i} has version {migrations[i].Version}.", nameof(migrations));
            }
        }

        _migrations = migrations;
        _time = time;
    }

    /// <summary>Returns the backup taken before migrating, or null when nothing was pending (or the database was new).</summary>
    public async Task<string?> MigrateAsync(SqliteConnection connection, string databasePath, string backupDirectory, CancellationToken cancellationToken)
    {
        var current = await CurrentVersionAsync(connection, cancellationToken);
        var latest = _migrations.Count;
        if (current > latest)
        {
            throw new RegistryStartupException(
                $"The database {databasePath} is at schema version {current}, newer than this build knows ({latest}). Run a newer registry; the database was not changed.");
        }

        if (current == latest)
        {
            return null;
        }

        // A new database has nothing to lose; an existing one is copied before anything changes.
        string? backupPath = null;
        if (current > 0)
        {
            Directory.CreateDirectory(backupDirectory);
            backupPath = Path.Combine(
                backupDirectory,
                $"{Path.GetFileName(databasePath)}.v{current}-before-v{latest}.{_time.GetUtcNow():yyyyMMddHHmmssfff}.bak");
            await SqliteBackup.CopyAsync(connection, backupPath, cancellationToken);
        }

        foreach (var migration in _migrations.Where(m => m.Version > current))
        {
            try
            {
                await ApplyAsync(connection, migration, cancellationToken);
            }
            catch (Exception e) when (e is SqliteException or InvalidOperationException)
            {
                if (backupPath is null)
                {
                    throw new RegistryStartupException(
                        $"Migration {migration.Version} ({migration.Description}) failed on the new database {databasePath}: {e.Message}", e);
                }

                await SqliteBackup.RestoreAsync(backupPath, connection, cancellationToken);
                throw new RegistryStartupException(
                    $"Migration {migration.Version} ({migration.Description}) failed: {e.Message}. The database {databasePath} was restored from {backupPath} (schema version {current}); the registry will not start until the migration is fixed.",
                    e);
            }
        }

        return backupPath;
    }

    public static async Task<int> CurrentVersionAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        await using var exists = connection.CreateCommand();
        exists.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'";
        if (Convert.ToInt64(await exists.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) == 0)
        {
            return 0;
        }

        await using var version = connection.CreateCommand();
        version.CommandText = "SELECT coalesce(max(version), 0) FROM schema_version";
        return Convert.ToInt32(await version.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    private async Task ApplyAsync(SqliteConnection connection, Migration migration, CancellationToken cancellationToken)
    {
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = migration.Sql;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var record = connection.CreateCommand())
        {
            record.Transaction = transaction;
            record.CommandText = "INSERT INTO schema_version (version, description, applied_at) VALUES (@version, @description, @applied_at)";
            record.Parameters.AddWithValue("@version", migration.Version);
            record.Parameters.AddWithValue("@description", migration.Description);
            record.Parameters.AddWithValue("@applied_at", _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
            await record.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }
}
