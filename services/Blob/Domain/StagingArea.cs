namespace Microservices.Blob.Domain;

/// <summary>
/// Local scratch space for bytes on their way in (staged uploads, encoding output). On the
/// same filesystem as the local objects, so publishing a staged file is a rename.
/// </summary>
internal sealed class StagingArea
{
    public StagingArea(string directory)
    {
        Directory = directory;
        System.IO.Directory.CreateDirectory(directory);
    }

    public string Directory { get; }

    public string NewPath(string suffix = ".staged") => Path.Combine(Directory, $"{Guid.NewGuid():N}{suffix}");
}
