using Microservices.Registry.Repositories;

namespace Microservices.Registry.Extensions;

/// <summary>Configuration section Registry:Store (appsettings or Registry__Store__Kind=postgres style).</summary>
internal sealed class RegistryStoreOptions
{
    public const string Section = "Registry:Store";

    /// <summary>Registry:Store:Kind — "sqlite" (default, embedded) or "postgres" (several replicas).</summary>
    public string Kind { get; set; } = "sqlite";

    public SqliteStoreOptions Sqlite { get; set; } = new();

    public PostgresStoreOptions Postgres { get; set; } = new();
}
