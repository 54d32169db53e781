using System.Security.Cryptography;
using Microservices.Registry.Models;
using Microsoft.Data.Sqlite;

namespace Microservices.Registry.Migrations;

/// <summary>
/// Operator backups (the Backup RPC): always in the configured directory, under a name the server
/// makes, readable by the service's user only, never replacing a file, and never visible under the
/// final name until complete.
/// </summary>
internal static class SqliteBackupFiles
{
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>registry-&lt;UTC yyyyMMddTHHmmssfffZ&gt;-&lt;8 random hex&gt;.db: sorts by time; the random part keeps two in one millisecond apart.</summary>
    public static string NewName(DateTimeOffset now) =>
        $"registry-{now.UtcDateTime:yyyyMMdd'T'HHmmssfff'Z'}-{RandomNumberGenerator.GetHexString(8, lowercase: true)}.db";

    public static async Task<BackupResult> WriteAsync(SqliteConnection source, string directory, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // Created 0700 when missing; an existing directory keeps the mode the operator gave it.
        if (OperatingSystem.IsWindows())
        {
            // No Unix modes there: the directory's inherited ACL applies.
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, OwnerOnlyDirectory);
        }

        var name = NewName(now);
        var final = Path.Combine(directory, name);
        var partial = Path.Combine(directory, $".{name}.partial");

        // SQLite would create the file with the umask's mode; an empty file made 0600 first is
        // a valid empty database it writes into, so the copy is never readable by others.
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            create.UnixCreateMode = OwnerOnlyFile;
        }

        await using (new FileStream(partial, create))
        {
        }

        try
        {
            await SqliteBackup.CopyAsync(source, partial, cancellationToken);

            // Without overwrite, .NET renames through link+unlink on Unix: an existing file is an error, never replaced.
            File.Move(partial, final, overwrite: false);
        }
        catch
        {
            File.Delete(partial);
            throw;
        }

        return new BackupResult(name, final, new FileInfo(final).Length);
    }
}
