namespace Microservices.Registry.Repositories;

/// <summary>Configuration section Registry:Store:Sqlite.</summary>
internal sealed class SqliteStoreOptions
{
    /// <summary>Registry:Store:Sqlite:Path — the database file (created if absent).</summary>
    public string Path { get; set; } = "registry.db";

    /// <summary>Registry:Store:Sqlite:BusyTimeoutMs — how long a writer waits for another process's write lock.</summary>
    public int BusyTimeoutMs { get; set; } = 10_000;

    /// <summary>Registry:Store:Sqlite:BackupDirectory — where pre-migration backups go; default: next to the database.</summary>
    public string? BackupDirectory { get; set; }
}
