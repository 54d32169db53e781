using Microservices.Registry.Repositories;

namespace Microservices.Registry.Tests;

/// <summary>
/// The contract suite on a real PostgreSQL started by the tests. Tests share one database
/// (migrated once, concurrently by whichever store starts first) and are kept apart by owner.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresContractTests(PostgresServer server) : ModelStoreContract
{
    private static readonly SemaphoreSlim DatabaseLock = new(1, 1);
    private static string? _sharedDatabase;

    private protected override async Task<IModelStore> CreateStoreAsync()
    {
        await DatabaseLock.WaitAsync();
        try
        {
            _sharedDatabase ??= await server.CreateDatabaseAsync();
        }
        finally
        {
            DatabaseLock.Release();
        }

        var store = new PostgresModelStore(new PostgresStoreOptions { ConnectionString = _sharedDatabase });
        await store.InitializeAsync(default);
        return store;
    }
}
