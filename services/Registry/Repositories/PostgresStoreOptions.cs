namespace Microservices.Registry.Repositories;

/// <summary>Configuration section Registry:Store:Postgres.</summary>
internal sealed class PostgresStoreOptions
{
    /// <summary>Registry:Store:Postgres:ConnectionString — an Npgsql connection string (pooling is Npgsql's).</summary>
    public string ConnectionString { get; set; } = "";
}
