namespace Microservices.Blob.Domain;

/// <summary>
/// Local scratch space for bytes on their way in (staged uploads, encoding output). On the
/// same filesystem as the local objects, so publishing a staged file is a rename.
/// </summary>
internal sealed class StagingArea
{
    /// <summary>Created at start, before any call: whatever is left in it is from a process that died mid-call.</summary>
    public StagingArea(string directory)
    {
        Directory = directory;
        System.IO.Directory.CreateDirectory(directory);
        foreach (var leftover in System.IO.Directory.EnumerateFiles(directory))
        {
            File.Delete(leftover);
        }
    }

    public string Directory { get; }

    public string NewPath(string suffix = ".staged") => Path.Combine(Directory, $"{Guid.NewGuid():N}{suffix}");
}
