using Microservices.TestSupport;

namespace Microservices.Blob.Tests.Support;

/// <summary>blobctl as a person runs it: the built CLI as a separate process.</summary>
internal static class Blobctl
{
    private static string Dll
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
            var dll = Path.Combine(RepositoryPaths.Root, "services", "Blob.Cli", "bin", configuration, "net10.0", "blobctl.dll");
            Prerequisite.File(dll, "dotnet build services/Blob.Cli");
            return dll;
        }
    }

    /// <summary>Runs blobctl against <paramref name="port"/> with the token in <paramref name="tokenFile"/> (none when null).</summary>
    public static Task<(int ExitCode, string Output)> RunAsync(int port, string? tokenFile, params string[] args) =>
        ExternalProcess.RunAsync("dotnet", [Dll, "--address", $"http://127.0.0.1:{port}", .. tokenFile is null ? Array.Empty<string>() : ["--token-file", tokenFile], .. args], TimeSpan.FromMinutes(2));

    /// <summary>Runs blobctl and requires exit code 0; returns its output.</summary>
    public static async Task<string> SucceedsAsync(int port, string? tokenFile, params string[] args)
    {
        var (code, output) = await RunAsync(port, tokenFile, args);
        Assert.True(code == 0, $"blobctl {string.Join(' ', args)} exited {code}:\n{output}");
        return output;
    }
}
