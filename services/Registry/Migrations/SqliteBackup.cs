using Microsoft.Data.Sqlite;

namespace Microservices.Registry.Migrations;

/// <summary>
/// SQLite's online backup API: a consistent copy while other connections keep reading and
/// writing (a file copy could catch a half-written page or miss the WAL).
/// </summary>
internal static class SqliteBackup
{
    public static Task CopyAsync(SqliteConnection source, string destinationPath, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var destination = new SqliteConnection(Unpooled(destinationPath, SqliteOpenMode.ReadWriteCreate));
        destination.Open();
        source.BackupDatabase(destination);
        return Task.CompletedTask;
    }

    /// <summary>Overwrites the database behind <paramref name="target"/> with the backup's pages.</summary>
    public static Task RestoreAsync(string backupPath, SqliteConnection target, CancellationToken cancellationToken)
    {
        // Restoring is what keeps the database sane after a failure: it must not be cancelled halfway.
        _ = cancellationToken;
        using var backup = new SqliteConnection(Unpooled(backupPath, SqliteOpenMode.ReadOnly));
        backup.Open();
        backup.BackupDatabase(target);
        return Task.CompletedTask;
    }

    private static string Unpooled(string path, SqliteOpenMode mode) =>
        new SqliteConnectionStringBuilder { DataSource = path, Mode = mode, Pooling = false }.ToString();
}
