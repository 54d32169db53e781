using System.Data.Common;
using Microservices.Registry.Migrations;
using Microservices.Registry.Models;
using Microsoft.Data.Sqlite;

namespace Microservices.Registry.Repositories;

/// <summary>
/// The embedded default store: one SQLite file in WAL mode (readers never block the writer),
/// a pooled connection per operation with busy_timeout and foreign keys on, and writers
/// serialized by BEGIN IMMEDIATE so a read-then-write transaction never fails with
/// "database is locked" half-way.
/// </summary>
internal sealed class SqliteModelStore : SqlModelStore
{
    private readonly SqliteStoreOptions _options;
    private readonly IReadOnlyList<Migration> _migrations;
    private readonly TimeProvider _time;
    private readonly string _connectionString;

    // In-process writers queue here asynchronously instead of blocking pool threads inside
    // SQLite's busy handler; busy_timeout still covers writers in other processes.
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    /// <summary>The page cache of an import's connection, KiB (the default is 2,000).</summary>
    public const int BulkCacheKib = 64 * 1024;

    static SqliteModelStore()
    {
        SQLitePCL.Batteries_V2.Init();
    }

    /// <param name="backupDirectory">Where the Backup call writes (Registry:Backup:Directory); default: "backups" next to the database.</param>
    public SqliteModelStore(SqliteStoreOptions options, TimeProvider? time = null, IReadOnlyList<Migration>? migrations = null, string? backupDirectory = null)
    {
        _options = options;
        _time = time ?? TimeProvider.System;
        _migrations = migrations ?? SqliteMigrations.All;
        DatabasePath = System.IO.Path.GetFullPath(options.Path);
        BackupDirectory = System.IO.Path.GetFullPath(backupDirectory ?? System.IO.Path.Combine(System.IO.Path.GetDirectoryName(DatabasePath)!, "backups"));
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            ForeignKeys = true,
            DefaultTimeout = Math.Max(30, (options.BusyTimeoutMs / 1000) + 5),
        }.ToString();
    }

    public override string Kind => "sqlite";

    public string DatabasePath { get; }

    /// <summary>The directory the Backup call writes into.</summary>
    public string BackupDirectory { get; }

    /// <summary>The backup taken by the last InitializeAsync that migrated an existing database.</summary>
    public string? LastMigrationBackup { get; private set; }

    protected override string TagsJsonSql =>
        "(SELECT json_group_object(t.tag_key, t.tag_value) FROM model_tags t WHERE t.owner = m.owner AND t.model_id = m.model_id)";

    public override async Task InitializeAsync(CancellationToken cancellationToken)
    {
        var existed = File.Exists(DatabasePath) && new FileInfo(DatabasePath).Length > 0;
        if (!existed && System.IO.Path.GetDirectoryName(DatabasePath) is { } directory)
        {
            Directory.CreateDirectory(directory);
        }

        if (existed)
        {
            // Before anything writes (WAL switch, backup, migration): a damaged file is left exactly as found.
            await RefuseIfDamagedAsync(cancellationToken);
        }

        await using var connection = (SqliteConnection)await OpenAsync(cancellationToken);
        await ExecuteAsync(connection, "PRAGMA journal_mode = WAL", cancellationToken);
        var migrator = new SqliteMigrator(_migrations, _time);
        var backupDirectory = _options.BackupDirectory ?? System.IO.Path.GetDirectoryName(DatabasePath)!;
        LastMigrationBackup = await migrator.MigrateAsync(connection, DatabasePath, backupDirectory, cancellationToken);
    }

    public override async Task<BackupResult> BackupAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await SqliteBackupFiles.WriteAsync((SqliteConnection)connection, BackupDirectory, _time.GetUtcNow(), cancellationToken);
    }

    public override async Task<IntegrityReport> CheckIntegrityAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var messages = await IntegrityMessagesAsync(connection, "PRAGMA integrity_check(100)", cancellationToken);
        return new IntegrityReport(messages is ["ok"], messages);
    }

    public override ValueTask DisposeAsync()
    {
        // Closes this file's pooled connections so the file can be moved or deleted.
        using (var connection = new SqliteConnection(_connectionString))
        {
            SqliteConnection.ClearPool(connection);
        }

        _writeGate.Dispose();
        return ValueTask.CompletedTask;
    }

    protected internal override async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);

            // Per connection: busy_timeout for other processes' locks; NORMAL sync in WAL keeps every
            // committed transaction across a process crash (kill -9); only an OS crash or power
            // loss can lose the last few.
            await ExecuteAsync(connection, $"PRAGMA busy_timeout = {_options.BusyTimeoutMs}; PRAGMA synchronous = NORMAL", cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private const int BulkIndexRebuildMinRows = 10_000;

    protected override async ValueTask<StoreTransaction> BeginWriteAsync(CancellationToken cancellationToken, bool bulk = false)
    {
        await _writeGate.WaitAsync(cancellationToken);
        DbConnection? connection = null;
        try
        {
            connection = await OpenAsync(cancellationToken);
            if (bulk)
            {
                // An import touches every index of every row: the default 2 MB page cache thrashes.
                await ExecuteAsync(connection, $"PRAGMA cache_size = -{BulkCacheKib}", cancellationToken);
            }

            // deferred: false = BEGIN IMMEDIATE: take the write lock now, waiting up to busy_timeout,
            // rather than failing when a read inside the transaction later upgrades to a write.
            var transaction = ((SqliteConnection)connection).BeginTransaction(deferred: false);
            return new StoreTransaction(connection, transaction, new GateRelease(_writeGate), bulk ? "PRAGMA cache_size = -2000" : null);
        }
        catch
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }

            _writeGate.Release();
            throw;
        }
    }

    protected override async ValueTask<StoreTransaction> BeginSnapshotAsync(CancellationToken cancellationToken)
    {
        var connection = await OpenAsync(cancellationToken);
        try
        {
            // A deferred transaction takes no lock up front; in WAL its first read fixes the
            // snapshot every later statement sees, and writers go on meanwhile.
            return new StoreTransaction(connection, ((SqliteConnection)connection).BeginTransaction(deferred: true), gate: null);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    protected override UniqueViolation? ClassifyUniqueViolation(DbException exception)
    {
        // SQLITE_CONSTRAINT_UNIQUE (2067) and SQLITE_CONSTRAINT_PRIMARYKEY (1555).
        if (exception is not SqliteException { SqliteErrorCode: 19 } sqlite || sqlite.SqliteExtendedErrorCode is not (2067 or 1555))
        {
            return null;
        }

        return sqlite.Message.Contains("models.alias", StringComparison.Ordinal) ? UniqueViolation.Alias : UniqueViolation.ModelId;
    }

    private async Task RefuseIfDamagedAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<string> messages;
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            messages = await IntegrityMessagesAsync(connection, "PRAGMA quick_check(20)", cancellationToken);
        }
        catch (SqliteException e) when (e.SqliteErrorCode is 26 or 11)
        {
            // 26 SQLITE_NOTADB, 11 SQLITE_CORRUPT.
            throw new RegistryStartupException(
                $"The registry database {DatabasePath} is not a readable SQLite database ({e.Message.TrimEnd('.')}). " +
                "The registry refuses to start and has not modified the file. Restore it from a backup, or move it away to start empty.", e);
        }

        if (messages is not ["ok"])
        {
            throw new RegistryStartupException(
                $"The registry database {DatabasePath} failed its integrity check: {string.Join("; ", messages)}. " +
                "The registry refuses to start and has not modified the file. Restore it from a backup.");
        }
    }

    private static async Task<IReadOnlyList<string>> IntegrityMessagesAsync(DbConnection connection, string pragma, CancellationToken cancellationToken)
    {
        await using var command = DbCommands.Create(connection, null, pragma);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var messages = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            messages.Add(reader.GetString(0));
        }

        return messages;
    }

    /// <summary>
    /// A large import into a small table builds the models indexes afterwards, one sorted pass
    /// each, instead of updating six B-trees row by row. Inside the import's transaction, so a
    /// failure or rollback leaves the schema as it was; the alias pre-check makes the unique
    /// index rebuild succeed (a race would surface as the unique violation the import reports).
    /// </summary>
    protected override async Task<IReadOnlyList<string>> SuspendIndexesForBulkAsync(
        DbConnection connection, DbTransaction transaction, int newRows, CancellationToken cancellationToken)
    {
        if (newRows < BulkIndexRebuildMinRows)
        {
            return [];
        }

        await using (var count = DbCommands.Create(connection, transaction, "SELECT count(*) FROM models"))
        {
            // Rebuilding sorts every row of the table: worth it only when the import dominates it.
            if (Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) > newRows)
            {
                return [];
            }
        }

        var statements = new List<(string Name, string Sql)>();
        await using (var list = DbCommands.Create(connection, transaction,
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'models' AND sql IS NOT NULL"))
        await using (var reader = await list.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                statements.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        foreach (var (name, _) in statements)
        {
            await using var drop = DbCommands.Create(connection, transaction, $"DROP INDEX \"{name}\"");
            await drop.ExecuteNonQueryAsync(cancellationToken);
        }

        return statements.Select(s => s.Sql).ToList();
    }

    private static async Task ExecuteAsync(DbConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = DbCommands.Create(connection, null, sql);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private sealed class GateRelease(SemaphoreSlim gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Release();
            }
        }
    }
}
