using Microservices.TestSupport;

namespace Microservices.Hosting.Tests.Support;

/// <summary>Debian's python3 with grpcio: the real gRPC peer nobody here wrote (scripts in tests/Interop/python).</summary>
internal static class Python
{
    private const string Install = "apt-get install -y python3-grpcio python3-grpc-tools grpc-proto";

    public static string Executable
    {
        get
        {
            var python = Prerequisite.Executable("/usr/bin/python3", Install);
            Prerequisite.File("/usr/lib/python3/dist-packages/grpc/__init__.py", Install);
            Prerequisite.File("/usr/lib/python3/dist-packages/grpc_tools/protoc.py", Install);
            Prerequisite.File("/usr/share/grpc-proto/grpc/health/v1/health.proto", Install);
            return python;
        }
    }

    public static string ScriptsDirectory => Path.Combine(RepositoryRoot, "tests", "Interop", "python");

    private static string RepositoryRoot
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Microservices.sln")))
            {
                directory = directory.Parent;
            }

            return directory?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (Microservices.sln) above " + AppContext.BaseDirectory);
        }
    }

    public static Task<(int ExitCode, string Output)> RunScriptAsync(string script, params string[] arguments) =>
        ExternalProcess.RunAsync(Executable, [Path.Combine(ScriptsDirectory, script), .. arguments], TimeSpan.FromSeconds(60), ScriptsDirectory);

    /// <summary>Starts a script that keeps running (a Watch, a server); the caller waits on its output.</summary>
    public static ExternalProcess StartScript(string script, params string[] arguments) =>
        ExternalProcess.Start(Executable, [Path.Combine(ScriptsDirectory, script), .. arguments], ScriptsDirectory,
            new Dictionary<string, string> { ["PYTHONUNBUFFERED"] = "1" });
}
