using Microservices.Registry.Repositories;
using Microservices.TestSupport;

namespace Microservices.Registry.Tests;

/// <summary>The contract suite on a fresh SQLite file per test.</summary>
public sealed class SqliteContractTests : ModelStoreContract, IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private protected override async Task<IModelStore> CreateStoreAsync()
    {
        var store = new SqliteModelStore(new SqliteStoreOptions { Path = _directory.File("registry.db") });
        await store.InitializeAsync(default);
        return store;
    }
}
