namespace Microservices.TestSupport;

/// <summary>Files of the repository the tests run from: scripts, other projects' build output.</summary>
public static class RepositoryPaths
{
    /// <summary>The repository root (where Microservices.sln is), found from the test binaries.</summary>
    public static string Root { get; } = FindRoot();

    public static string File(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "Microservices.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Microservices.sln not found above {AppContext.BaseDirectory}");
    }
}
