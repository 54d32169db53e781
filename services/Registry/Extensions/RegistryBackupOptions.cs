namespace Microservices.Registry.Extensions;

/// <summary>Configuration section Registry:Backup (the Backup RPC; pre-migration backups are Registry:Store:Sqlite:BackupDirectory).</summary>
internal sealed class RegistryBackupOptions
{
    public const string Section = "Registry:Backup";

    /// <summary>
    /// Registry:Backup:Directory — where the Backup call writes. Default: "backups" under
    /// DataDirectory, or next to the database file without one; a relative path is taken under DataDirectory.
    /// </summary>
    public string? Directory { get; set; }

    public string Resolve(string databasePath, string? dataDirectory)
    {
        var hasDataDirectory = !string.IsNullOrWhiteSpace(dataDirectory);
        if (string.IsNullOrWhiteSpace(Directory))
        {
            return Path.GetFullPath(Path.Combine(hasDataDirectory ? dataDirectory! : Path.GetDirectoryName(Path.GetFullPath(databasePath))!, "backups"));
        }

        return Path.GetFullPath(hasDataDirectory && !Path.IsPathRooted(Directory) ? Path.Combine(dataDirectory!, Directory) : Directory);
    }
}
