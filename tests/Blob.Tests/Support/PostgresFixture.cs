using Microservices.TestSupport;

namespace Microservices.Blob.Tests.Support;

/// <summary>TestSupport's PostgreSQL cluster as this assembly's collection fixture; each test takes a database of its own.</summary>
public sealed class PostgresFixture : PostgresServer, IAsyncLifetime;

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "blob-postgres";
}
