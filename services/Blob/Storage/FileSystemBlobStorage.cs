namespace Microservices.Blob.Storage;

/// <summary>
/// The embedded default: objects as files under a root directory with fan-out directories.
/// A put moves (or copies) the bytes to a temp name in the same directory, fsyncs, then renames:
/// a crash leaves either no object or the whole one, plus at most a stray temp file.
/// </summary>
internal sealed class FileSystemBlobStorage : IBlobStorage
{
    private const string TempSuffix = ".tmp";
    private readonly string _root;

    public FileSystemBlobStorage(string root)
    {
        _root = Path.GetFullPath(root);
        Directory.CreateDirectory(_root);
    }

    public string Kind => "filesystem";

    public Task<bool> ExistsAsync(string key, CancellationToken cancellationToken) => Task.FromResult(File.Exists(PathOf(key)));

    public async Task PutFileAsync(string key, string sourcePath, CancellationToken cancellationToken)
    {
        var target = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temp = $"{target}.{Guid.NewGuid():N}{TempSuffix}";
        try
        {
            try
            {
                File.Move(sourcePath, temp);
            }
            catch (IOException)
            {
                // Another filesystem: copy instead of rename.
                await using (var source = new FileStream(sourcePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan))
                await using (var copy = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
                {
                    await source.CopyToAsync(copy, cancellationToken).ConfigureAwait(false);
                }

                File.Delete(sourcePath);
            }

            using (var sync = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1))
            {
                // fsync before the rename, so the name never points at bytes not yet on disk.
                sync.Flush(flushToDisk: true);
            }

            File.Move(temp, target, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            Stream stream = new FileStream(PathOf(key), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
            return Task.FromResult<Stream?>(stream);
        }
        catch (Exception error) when (error is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        if (!File.Exists(path))
        {
            return Task.FromResult(false);
        }

        File.Delete(path);
        return Task.FromResult(true);
    }

    private string PathOf(string key)
    {
        var path = Path.GetFullPath(Path.Combine(_root, StorageKey.Validate(key)));
        return path.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            ? path
            : throw new ArgumentException($"storage key '{key}' leaves the storage root", nameof(key));
    }
}
