namespace Microservices.Registry.Tests;

/// <summary>TestSupport's PostgreSQL cluster as this assembly's collection fixture (xunit needs the fixture type here).</summary>
public sealed class PostgresServer : global::Microservices.TestSupport.PostgresServer, IAsyncLifetime;

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "postgres";
}
