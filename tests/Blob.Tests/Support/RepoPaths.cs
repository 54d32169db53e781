namespace Microservices.Blob.Tests.Support;

internal static class RepoPaths
{
    /// <summary>The repository root (where Microservices.sln is), found from the test binaries.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Microservices.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Microservices.sln not found above {AppContext.BaseDirectory}");
    }
}
