namespace Microservices.TestSupport;

/// <summary>
/// Finds the real programs the integration tests need. A missing one fails the test loudly with
/// the command that installs it: nothing is skipped silently.
/// </summary>
public static class Prerequisite
{
    public static string Executable(string nameOrPath, string installCommand)
    {
        if (Path.IsPathRooted(nameOrPath))
        {
            return System.IO.File.Exists(nameOrPath) ? nameOrPath : throw Missing(nameOrPath, installCommand);
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, nameOrPath);
            if (System.IO.File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw Missing(nameOrPath, installCommand);
    }

    public static void File(string path, string installCommand)
    {
        if (!System.IO.File.Exists(path))
        {
            throw Missing(path, installCommand);
        }
    }

    private static InvalidOperationException Missing(string what, string installCommand) =>
        new($"Prerequisite '{what}' is missing. Install it with: {installCommand} (or run ./dev test, which installs everything).");
}
