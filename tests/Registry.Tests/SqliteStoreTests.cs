using System.Security.Cryptography;
using Microservices.Registry.Changes;
using Microservices.Registry.Migrations;
using Microservices.Registry.Models;
using Microservices.Registry.Repositories;
using Microservices.TestSupport;
using Microsoft.Data.Sqlite;

namespace Microservices.Registry.Tests;

/// <summary>What only the SQLite store promises: pragmas, migrations with backup and restore, refusing a damaged file, indexes, backup.</summary>
public sealed class SqliteStoreTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    private string DatabasePath => _directory.File("registry.db");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Every_connection_has_wal_busy_timeout_and_foreign_keys()
    {
        await using var store = await OpenStoreAsync();
        await using var connection = await store.OpenAsync(default);

        Assert.Equal("wal", await ScalarAsync<string>(connection, "PRAGMA journal_mode"));
        Assert.Equal(10_000L, await ScalarAsync<long>(connection, "PRAGMA busy_timeout"));
        Assert.Equal(1L, await ScalarAsync<long>(connection, "PRAGMA foreign_keys"));
    }

    [Fact]
    public async Task The_sqlite_library_in_use_is_current()
    {
        // SQLitePCLRaw.bundle_e_sqlite3 ships its own SQLite; the old pin shipped 3.35 (2021).
        await using var store = await OpenStoreAsync();
        await using var connection = await store.OpenAsync(default);

        var version = Version.Parse(await ScalarAsync<string>(connection, "SELECT sqlite_version()"));
        Assert.True(version >= new Version(3, 46), $"SQLite {version} is in use; expected 3.46 or newer");
    }

    [Fact]
    public async Task A_new_database_is_created_with_its_directory()
    {
        var path = Path.Combine(_directory.Path, "nested", "deeper", "registry.db");
        await using (var store = new SqliteModelStore(new SqliteStoreOptions { Path = path }))
        {
            await store.InitializeAsync(default);
        }

        Assert.True(File.Exists(path));
    }

    [Fact]
    public async Task The_schema_version_is_recorded_in_the_database()
    {
        await using (await OpenStoreAsync())
        {
        }

        await using var raw = Raw();
        Assert.Equal([1L, 2L], await ColumnAsync<long>(raw, "SELECT version FROM schema_version ORDER BY version"));
    }

    [Fact]
    public async Task Upgrading_an_existing_database_backs_it_up_first_and_keeps_the_data()
    {
        await using (await OpenStoreAsync(SqliteMigrations.All.Take(1).ToList()))
        {
        }

        await InsertRawModelAsync("legacy");
        await using var store = await OpenStoreAsync();

        Assert.NotNull(store.LastMigrationBackup);
        Assert.True(File.Exists(store.LastMigrationBackup));
        await using (var backup = Raw(store.LastMigrationBackup))
        {
            Assert.Equal([1L], await ColumnAsync<long>(backup, "SELECT version FROM schema_version"));
        }

        var registry = new ModelRegistry(store, new ModelChangeFeed(), TimeProvider.System);
        Assert.Equal("legacy", (await registry.GetByIdAsync("alice", "legacy", default)).ModelId);
    }

    [Fact]
    public async Task A_failed_migration_restores_the_backup_including_migrations_that_had_committed()
    {
        await using (var store = await OpenStoreAsync())
        {
        }

        await InsertRawModelAsync("precious");
        var before = await Sha256Async(DatabaseContentQuery);
        var migrations = SqliteMigrations.All.Concat(
        [
            new Migration(3, "adds a column (succeeds)", "ALTER TABLE models ADD COLUMN extra TEXT; UPDATE models SET extra = 'changed', branch = 'changed';"),
            new Migration(4, "made to fail half-way", "CREATE TABLE half_done (x INTEGER); INSERT INTO no_such_table VALUES (1);"),
        ]).ToList();

        var failing = new SqliteModelStore(Options(), migrations: migrations);
        var e = await Assert.ThrowsAsync<RegistryStartupException>(() => failing.InitializeAsync(default));
        await failing.DisposeAsync();

        Assert.Contains("Migration 4", e.Message);
        Assert.Contains("restored from", e.Message);
        await using var raw = Raw();
        Assert.Equal(2L, await ScalarAsync<long>(raw, "SELECT max(version) FROM schema_version"));
        Assert.DoesNotContain("extra", await ColumnAsync<string>(raw, "SELECT name FROM pragma_table_info('models')"));
        Assert.Equal(0L, await ScalarAsync<long>(raw, "SELECT count(*) FROM sqlite_master WHERE name = 'half_done'"));
        Assert.Equal(["main"], await ColumnAsync<string>(raw, "SELECT branch FROM models"));
        Assert.Equal(before, await Sha256Async(DatabaseContentQuery));
        Assert.Equal("ok", await ScalarAsync<string>(raw, "PRAGMA integrity_check"));
    }

    [Fact]
    public async Task A_database_newer_than_the_build_is_refused_unchanged()
    {
        await using (await OpenStoreAsync())
        {
        }

        await using (var raw = Raw())
        {
            await ExecuteAsync(raw, "INSERT INTO schema_version VALUES (9, 'from the future', '2030-01-01')");
        }

        var store = new SqliteModelStore(Options());
        var e = await Assert.ThrowsAsync<RegistryStartupException>(() => store.InitializeAsync(default));
        await store.DisposeAsync();
        Assert.Contains("schema version 9", e.Message);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("damaged pages")]
    public async Task A_corrupt_database_file_stops_startup_with_a_clear_error_and_is_not_touched(string damage)
    {
        if (damage == "garbage")
        {
            await File.WriteAllBytesAsync(DatabasePath, RandomNumberGenerator.GetBytes(64 * 1024));
        }
        else
        {
            await using (var store = await OpenStoreAsync())
            {
                var registry = new ModelRegistry(store, new ModelChangeFeed(), TimeProvider.System);
                await registry.ImportModelListAsync("alice", new MemoryStream(System.Text.Encoding.UTF8.GetBytes(string.Concat(
                    Enumerable.Range(0, 3000).Select(i => $"model-{i} a/b main c{i}.yaml alias-{i} READY\n")))), Import.ImportMode.BestEffort, default);
                await using var connection = await store.OpenAsync(default);
                await ExecuteAsync(connection, "PRAGMA wal_checkpoint(TRUNCATE)");
            }

            // Overwrite pages in the middle of the file (index and table b-tree pages), keeping the header.
            await using (var file = new FileStream(DatabasePath, FileMode.Open, FileAccess.Write))
            {
                file.Position = 4096 * 3;
                await file.WriteAsync(RandomNumberGenerator.GetBytes(4096 * 8));
            }
        }

        var original = await File.ReadAllBytesAsync(DatabasePath);
        var damaged = new SqliteModelStore(Options());
        var e = await Assert.ThrowsAsync<RegistryStartupException>(() => damaged.InitializeAsync(default));
        await damaged.DisposeAsync();

        Assert.Contains(DatabasePath, e.Message);
        Assert.Contains("refuses to start", e.Message);
        Assert.Equal(original, await File.ReadAllBytesAsync(DatabasePath));
        Assert.Empty(Directory.GetFiles(_directory.Path, "*.bak"));
    }

    [Theory]
    [InlineData("none", "sqlite_autoindex_models_1 (owner=?)")]
    [InlineData("source_type", "ix_models_source_type (owner=? AND source_type=?)")]
    [InlineData("status", "ix_models_status (owner=? AND status=?)")]
    [InlineData("author_repo", "ix_models_author_repo (owner=? AND author_repo=?)")]
    [InlineData("prefix", "ux_models_alias (owner=? AND alias>? AND alias<?)")]
    [InlineData("tag", "ix_model_tags_key_value (owner=? AND tag_key=? AND tag_value=?)")]
    [InlineData("tag_key", "ix_model_tags_key_value (owner=? AND tag_key=?)")]
    [InlineData("created_at", "ix_models_created_at (owner=?)")]
    [InlineData("updated_at_page2", "ix_models_updated_at (owner=? AND (updated_at,model_id)<(?,?))")]
    public async Task Every_list_filter_is_served_by_an_index(string filter, string expectedIndexUse)
    {
        await using var store = await OpenStoreAsync();
        var query = filter switch
        {
            "source_type" => new ModelQuery { SourceType = SourceType.Local },
            "status" => new ModelQuery { Status = ModelStatus.Running },
            "author_repo" => new ModelQuery { AuthorRepo = "a/b" },
            "prefix" => new ModelQuery { Prefix = "llama" },
            "tag" => new ModelQuery { TagKey = "stage", TagValue = "prod" },
            "tag_key" => new ModelQuery { TagKey = "stage" },
            "created_at" => new ModelQuery { OrderBy = ModelOrder.CreatedAt },
            "updated_at_page2" => new ModelQuery { OrderBy = ModelOrder.UpdatedAt, Descending = true },
            _ => new ModelQuery(),
        };
        var after = filter.EndsWith("page2", StringComparison.Ordinal) ? new PageToken(1, "x", "f") : null;

        var plan = await QueryPlanAsync(store, command => ListQuery.Build(command, "alice", query, after, 51, "NULL"));
        var countPlan = await QueryPlanAsync(store, command => ListQuery.BuildCount(command, "alice", query));

        var text = string.Join(" | ", plan);
        Assert.Contains(expectedIndexUse, text);
        Assert.DoesNotContain(plan, step => step.StartsWith("SCAN", StringComparison.Ordinal));
        if (filter == "prefix")
        {
            Assert.Contains("sqlite_autoindex_models_1 (owner=? AND model_id>? AND model_id<?)", text);
        }

        // include_total_count: the same filters, counted through the same indexes (order and page don't apply).
        Assert.DoesNotContain(countPlan, step => step.StartsWith("SCAN", StringComparison.Ordinal));
        if (filter is not ("none" or "created_at" or "updated_at_page2"))
        {
            Assert.Contains(expectedIndexUse, string.Join(" | ", countPlan));
        }
    }

    private static async Task<List<string>> QueryPlanAsync(SqliteModelStore store, Action<System.Data.Common.DbCommand> build)
    {
        await using var connection = await store.OpenAsync(default);
        await using var command = connection.CreateCommand();
        build(command);
        command.CommandText = "EXPLAIN QUERY PLAN " + command.CommandText;
        var plan = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            plan.Add(reader.GetString(3));
        }

        return plan;
    }

    [Fact]
    public async Task A_large_import_into_a_small_table_rebuilds_every_index_and_keeps_them_enforced()
    {
        await using var store = await OpenStoreAsync();
        var indexesBefore = await IndexNamesAsync(store);
        var rows = Enumerable.Range(0, 12_000).Select(i => new Registry.Import.ImportRow(i + 1, new NewModel
        {
            Owner = "alice",
            ModelId = $"huggingface.co/org{i % 7}/repo/m{i:D5}.gguf",
            SourceType = SourceType.HuggingFace,
            AuthorRepo = $"org{i % 7}/repo",
            Branch = "main",
            ConfigPath = $"m{i}.yaml",
            Alias = $"m{i:D5}",
            Status = i % 10 == 0 ? ModelStatus.Running : ModelStatus.Ready,
        })).ToList();

        var result = await store.ImportAsync("alice", rows, allOrNothing: false, DateTimeOffset.UtcNow, default);

        Assert.Equal(12_000, result.Created.Count);
        Assert.Equal(indexesBefore, await IndexNamesAsync(store));
        var registry = new ModelRegistry(store, new ModelChangeFeed(), TimeProvider.System);
        var running = await registry.ListAsync("alice", new ModelQuery { Status = ModelStatus.Running, PageSize = 500 }, default);
        Assert.Equal(500, running.Models.Count);
        Assert.All(running.Models, m => Assert.Equal(ModelStatus.Running, m.Status));
        // The rebuilt unique index still refuses a second holder of an alias.
        var duplicate = await Assert.ThrowsAsync<RegistryException>(() => registry.RegisterAsync(new NewModel
        {
            Owner = "alice", ModelId = "other", SourceType = SourceType.Local, AuthorRepo = "local", Branch = "imported", ConfigPath = "o.yaml", Alias = "m00042",
        }, default));
        Assert.Equal(RegistryErrorKind.AlreadyExists, duplicate.Kind);
        Assert.True((await registry.CheckIntegrityAsync(default)).Ok);
    }

    private static async Task<List<string>> IndexNamesAsync(SqliteModelStore store)
    {
        await using var connection = await store.OpenAsync(default);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'models' ORDER BY name";
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    [Fact]
    public async Task Backup_is_a_consistent_copy_and_integrity_check_reports_ok()
    {
        await using var store = await OpenStoreAsync();
        var registry = new ModelRegistry(store, new ModelChangeFeed(), TimeProvider.System);
        await registry.RegisterAsync(new NewModel { Owner = "alice", ModelId = "m", SourceType = SourceType.Local, AuthorRepo = "local", Branch = "imported", ConfigPath = "m.yaml" }, default);

        var backup = await registry.BackupAsync(null, default);
        var integrity = await registry.CheckIntegrityAsync(default);

        Assert.True(backup.SizeBytes > 0);
        Assert.Equal(Path.Combine(store.BackupDirectory, backup.FileName), backup.FullPath);
        await using (var raw = Raw(backup.FullPath))
        {
            Assert.Equal(["m"], await ColumnAsync<string>(raw, "SELECT model_id FROM models"));
        }

        Assert.True(integrity.Ok);
        Assert.Equal(["ok"], integrity.Messages);
        var path = await Assert.ThrowsAsync<RegistryException>(() => registry.BackupAsync(_directory.File("copy.db"), default));
        Assert.Equal(RegistryErrorKind.InvalidArgument, path.Kind);
        Assert.Equal("destination_path", path.Field);
        Assert.False(File.Exists(_directory.File("copy.db")));
    }

    [Fact]
    public async Task Several_stores_on_one_file_write_concurrently_without_database_is_locked()
    {
        // Separate store instances stand in for separate processes: each has its own write gate,
        // so they really contend for SQLite's write lock and rely on BEGIN IMMEDIATE + busy_timeout.
        await using (await OpenStoreAsync())
        {
        }

        var stores = new List<SqliteModelStore>();
        for (var i = 0; i < 4; i++)
        {
            stores.Add(await OpenStoreAsync());
        }

        try
        {
            var work = stores.SelectMany((store, s) => Enumerable.Range(0, 2).Select(t => Task.Run(async () =>
            {
                var registry = new ModelRegistry(store, new ModelChangeFeed(), TimeProvider.System);
                for (var i = 0; i < 40; i++)
                {
                    await registry.RegisterAsync(new NewModel { Owner = "alice", ModelId = $"s{s}-t{t}-{i}", SourceType = SourceType.Local, AuthorRepo = "local", Branch = "imported", ConfigPath = "m.yaml" }, default);
                    await registry.SetStatusAsync("alice", $"s{s}-t{t}-{i}", ModelStatus.Running, 1, default);
                    await registry.ListAsync("alice", new ModelQuery { Status = ModelStatus.Running, PageSize = 10 }, default);
                }
            }))).ToList();
            await Task.WhenAll(work);
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }

        await using var raw = Raw();
        Assert.Equal(320L, await ScalarAsync<long>(raw, "SELECT count(*) FROM models WHERE status = 'RUNNING' AND version = 2"));
    }

    private const string DatabaseContentQuery = "SELECT owner || model_id || branch || version FROM models ORDER BY model_id";

    private SqliteStoreOptions Options() => new() { Path = DatabasePath };

    private async Task<SqliteModelStore> OpenStoreAsync(IReadOnlyList<Migration>? migrations = null)
    {
        var store = new SqliteModelStore(Options(), migrations: migrations);
        await store.InitializeAsync(default);
        return store;
    }

    private async Task InsertRawModelAsync(string id)
    {
        await using var raw = Raw();
        await ExecuteAsync(raw, $"INSERT INTO models VALUES ('alice', '{id}', 'local', 'local', 'main', 'c.yaml', '{id}', 'READY', 1, 0, 0)");
    }

    private async Task<string> Sha256Async(string query)
    {
        await using var raw = Raw();
        return string.Join(",", await ColumnAsync<string>(raw, query));
    }

    private SqliteConnection Raw(string? path = null)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path ?? DatabasePath, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    private static async Task ExecuteAsync(System.Data.Common.DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<T> ScalarAsync<T>(System.Data.Common.DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<List<T>> ColumnAsync<T>(System.Data.Common.DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<T>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetFieldValue<T>(0));
        }

        return values;
    }
}
