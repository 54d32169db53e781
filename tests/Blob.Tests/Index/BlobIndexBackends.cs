using Microservices.Blob.Index;
using Microservices.Blob.Tests.Support;
using Microservices.TestSupport;
using Npgsql;

namespace Microservices.Blob.Tests.Index;

/// <summary>The contract on the single-instance index: a SQLite file of its own.</summary>
public sealed class SqliteBlobIndexTests : BlobIndexContract
{
    private readonly TempDirectory _directory = new();

    internal override Task<IBlobIndex> CreateAsync() => Task.FromResult<IBlobIndex>(new SqliteBlobIndex(_directory.File("index.db")));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _directory.Dispose();
    }
}

/// <summary>The contract on the shared index: a database of its own (English collation by default) on the real PostgreSQL; plus what only sharing needs.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresBlobIndexTests(PostgresFixture postgres) : BlobIndexContract
{
    private string _connectionString = "";

    internal override async Task<IBlobIndex> CreateAsync()
    {
        // A linguistic default collation ("a" < "B"), so the index's own byte order is what the contract sees.
        _connectionString = await postgres.CreateDatabaseAsync(icuLocale: "en");
        return new PostgresBlobIndex(_connectionString);
    }

    [Fact]
    public void Postgres_without_a_connection_string_is_refused_with_the_key_to_set()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new PostgresBlobIndex(" "));
        Assert.Contains("Blob:Index:ConnectionString", error.Message);
    }

    [Fact]
    public async Task Replicas_starting_together_migrate_once_and_record_the_version()
    {
        var replicas = Enumerable.Range(0, 4).Select(_ => new PostgresBlobIndex(_connectionString)).ToList();
        await Task.WhenAll(replicas.Select(r => r.InitializeAsync(CancellationToken.None)));
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT array_agg(version ORDER BY version) FROM blob_schema_version", connection);
        var versions = (int[])(await command.ExecuteScalarAsync())!;
        Assert.Equal(new[] { 1 }, versions);
        foreach (var replica in replicas)
        {
            await replica.DisposeAsync();
        }
    }

    [Fact]
    public async Task An_object_lock_held_by_one_replica_holds_off_another_until_released()
    {
        await using var other = new PostgresBlobIndex(_connectionString);
        var held = await Index.Locks.AcquireAsync("shared/x", CancellationToken.None);
        await using (await other.Locks.AcquireAsync("shared/y", CancellationToken.None))
        {
            // Another key is not held off.
        }

        var waiting = other.Locks.AcquireAsync("shared/x", CancellationToken.None);
        // Known to be waiting on the server, not merely slow to start.
        await Eventually.HoldsAsync(async () => await WaitingAdvisoryLocksAsync() == 1, "the second replica waits for the advisory lock");
        Assert.False(waiting.IsCompleted);
        await held.DisposeAsync();
        await (await waiting).DisposeAsync();

        await using var round = await Index.Locks.TryAcquireCollectorAsync(CancellationToken.None);
        Assert.NotNull(round);
        Assert.Null(await other.Locks.TryAcquireCollectorAsync(CancellationToken.None));
    }

    private async Task<long> WaitingAdvisoryLocksAsync()
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
