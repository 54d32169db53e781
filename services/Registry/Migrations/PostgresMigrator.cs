using Microservices.Registry.Repositories;
using Npgsql;

namespace Microservices.Registry.Migrations;

/// <summary>
/// Brings a PostgreSQL database to the latest schema. DDL is transactional in PostgreSQL, so a
/// failed migration rolls back completely by itself; an advisory lock makes replicas that start
/// together migrate one at a time (the others then find nothing pending). Backups of a shared
/// PostgreSQL are the operator's (pg_dump), not the service's.
/// </summary>
internal sealed class PostgresMigrator
{
    // Arbitrary constant identifying "registry schema migration" among advisory locks.
    private const long MigrationLockKey = 0x5245_4749_5354_5259;

    private readonly IReadOnlyList<Migration> _migrations;

    public PostgresMigrator(IReadOnlyList<Migration> migrations)
    {
        _migrations = migrations;
    }

    public async Task MigrateAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var create = new NpgsqlCommand(
            "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
            connection))
        {
            await using var tx = await connection.BeginTransactionAsync(cancellationToken);
            create.Transaction = tx;
            await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({MigrationLockKey})", connection, tx))
            {
                await lockCommand.ExecuteNonQueryAsync(cancellationToken);
            }

            await create.ExecuteNonQueryAsync(cancellationToken);
            await tx.CommitAsync(cancellationToken);
        }

        foreach (var migration in _migrations)
        {
            await using var tx = await connection.BeginTransactionAsync(cancellationToken);
            await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({MigrationLockKey})", connection, tx))
            {
                await lockCommand.ExecuteNonQueryAsync(cancellationToken);
            }

            int current;
            await using (var version = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM schema_version", connection, tx))
            {
                current = Convert.ToInt32(await version.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
            }

            if (current > _migrations.Count)
            {
                throw new RegistryStartupException(
                    $"The PostgreSQL database is at schema version {current}, newer than this build knows ({_migrations.Count}). Run a newer registry; the database was not changed.");
            }

            if (migration.Version <= current)
            {
                continue;
            }

            try
            {
                await using (var apply = new NpgsqlCommand(migration.Sql, connection, tx))
                {
                    await apply.ExecuteNonQueryAsync(cancellationToken);
                }

                await using (var record = new NpgsqlCommand("INSERT INTO schema_version (version, description) VALUES (@version, @description)", connection, tx))
                {
                    record.Parameters.AddWithValue("version", migration.Version);
                    record.Parameters.AddWithValue("description", migration.Description);
                    await record.ExecuteNonQueryAsync(cancellationToken);
                }

                await tx.CommitAsync(cancellationToken);
            }
            catch (PostgresException e)
            {
                throw new RegistryStartupException(
                    $"Migration {migration.Version} ({migration.Description}) failed and was rolled back: {e.MessageText}. The registry will not start until it is fixed.", e);
            }
        }
    }
}
