using System.Data.Common;
using Microservices.Registry.Migrations;
using Microservices.Registry.Models;
using Npgsql;

namespace Microservices.Registry.Repositories;

/// <summary>
/// The scale-out store: several registry replicas share one PostgreSQL. Writes run in READ
/// COMMITTED with the model's row locked (SELECT … FOR UPDATE), so version checks and status
/// transitions are decided on the latest committed row; uniqueness races between replicas
/// surface as unique violations and are retried or reported.
/// </summary>
internal sealed class PostgresModelStore : SqlModelStore
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly IReadOnlyList<Migration> _migrations;

    public PostgresModelStore(PostgresStoreOptions options, IReadOnlyList<Migration>? migrations = null)
    {
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            throw new RegistryStartupException("Registry:Store:Postgres:ConnectionString is empty; set it, or use Registry:Store:Kind=sqlite.");
        }

        _dataSource = NpgsqlDataSource.Create(options.ConnectionString);
        _migrations = migrations ?? PostgresMigrations.All;
    }

    public override string Kind => "postgres";

    protected override string TagsJsonSql =>
        "(SELECT coalesce(json_object_agg(t.tag_key, t.tag_value), '{}'::json)::text FROM model_tags t WHERE t.owner = m.owner AND t.model_id = m.model_id)";

    protected override string LockRowSql => " FOR UPDATE OF m";

    // Held to commit; the (int, int) key space with a first key of ASCII "REGI", so nothing else here shares it.
    protected override string? LockOwnerForAddSql => "SELECT pg_advisory_xact_lock(1380271945, hashtext(@owner))";

    public override async Task InitializeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await new PostgresMigrator(_migrations).MigrateAsync(_dataSource, cancellationToken);
        }
        catch (NpgsqlException e)
        {
            throw new RegistryStartupException($"Can't prepare the PostgreSQL registry database: {e.Message}", e);
        }
    }

    public override Task<BackupResult> BackupAsync(CancellationToken cancellationToken) =>
        throw RegistryException.FailedPrecondition(
            "This registry uses the PostgreSQL store, which is shared by every replica: back it up with pg_dump (or the server's own backups), not through the service.");

    public override async Task<IntegrityReport> CheckIntegrityAsync(CancellationToken cancellationToken)
    {
        // PostgreSQL checks pages itself; here: reachable, schema at the version this build expects, foreign keys hold.
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            SELECT (SELECT coalesce(max(version), 0) FROM schema_version),
                   (SELECT count(*) FROM model_tags t WHERE NOT EXISTS (SELECT 1 FROM models m WHERE m.owner = t.owner AND m.model_id = t.model_id))
            """,
            connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var version = reader.GetInt32(0);
        var orphans = reader.GetInt64(1);
        var messages = new List<string>();
        if (version != _migrations.Count)
        {
            messages.Add($"schema version is {version}, expected {_migrations.Count}");
        }

        if (orphans > 0)
        {
            messages.Add($"{orphans} tags belong to no model");
        }

        return messages.Count == 0 ? new IntegrityReport(true, ["ok"]) : new IntegrityReport(false, messages);
    }

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    protected internal override async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);

    protected override async ValueTask<StoreTransaction> BeginWriteAsync(CancellationToken cancellationToken, bool bulk = false)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, cancellationToken);
            return new StoreTransaction(connection, transaction, gate: null);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    protected override async ValueTask<StoreTransaction> BeginSnapshotAsync(CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            // REPEATABLE READ: every statement sees the snapshot of the first; reads take no locks.
            var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
            return new StoreTransaction(connection, transaction, gate: null);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    protected override UniqueViolation? ClassifyUniqueViolation(DbException exception)
    {
        if (exception is not PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } postgres)
        {
            return null;
        }

        return postgres.ConstraintName == "ux_models_alias" ? UniqueViolation.Alias : UniqueViolation.ModelId;
    }
}
