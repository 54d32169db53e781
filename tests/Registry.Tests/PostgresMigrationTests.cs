using Microservices.Registry.Migrations;
using Microservices.Registry.Repositories;
using Npgsql;

namespace Microservices.Registry.Tests;

[Collection(PostgresCollection.Name)]
public sealed class PostgresMigrationTests(PostgresServer server)
{
    [Fact]
    public async Task Replicas_starting_together_migrate_once()
    {
        var connectionString = await server.CreateDatabaseAsync();
        var stores = Enumerable.Range(0, 4).Select(_ => new PostgresModelStore(new PostgresStoreOptions { ConnectionString = connectionString })).ToList();

        await Task.WhenAll(stores.Select(s => s.InitializeAsync(default)));
        foreach (var store in stores)
        {
            await store.DisposeAsync();
        }

        Assert.Equal([1, 2], await VersionsAsync(connectionString));
    }

    [Fact]
    public async Task A_failed_migration_leaves_the_database_as_it_was_and_refuses_to_start()
    {
        var connectionString = await server.CreateDatabaseAsync();
        await using (var store = new PostgresModelStore(new PostgresStoreOptions { ConnectionString = connectionString }))
        {
            await store.InitializeAsync(default);
        }

        var failing = PostgresMigrations.All.Append(new Migration(3, "made to fail", "ALTER TABLE models ADD COLUMN extra text; SELECT * FROM no_such_table;")).ToList();
        await using (var store = new PostgresModelStore(new PostgresStoreOptions { ConnectionString = connectionString }, failing))
        {
            var e = await Assert.ThrowsAsync<RegistryStartupException>(() => store.InitializeAsync(default));
            Assert.Contains("Migration 3", e.Message);
        }

        Assert.Equal([1, 2], await VersionsAsync(connectionString));
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM information_schema.columns WHERE table_name = 'models' AND column_name = 'extra'", connection);
        Assert.Equal(0L, await command.ExecuteScalarAsync());
    }

    private static async Task<List<int>> VersionsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT version FROM schema_version ORDER BY version", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var versions = new List<int>();
        while (await reader.ReadAsync())
        {
            versions.Add(reader.GetInt32(0));
        }

        return versions;
    }
}
