namespace Microservices.TestSupport;

/// <summary>Debian's python3 with grpcio: the real gRPC peer nobody here wrote (scripts in tests/Interop/python).</summary>
public static class Python
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

    public static string ScriptsDirectory => RepositoryPaths.File("tests", "Interop", "python");

    /// <summary>Runs a script to its end (60 s at most) and returns its exit code and output.</summary>
    public static Task<(int ExitCode, string Output)> RunScriptAsync(string script, params string[] arguments) =>
        ExternalProcess.RunAsync(Executable, [Script(script), .. arguments], TimeSpan.FromSeconds(60), ScriptsDirectory);

    /// <summary>Starts a script that keeps running (a Watch, a server); the caller waits on its output.</summary>
    public static ExternalProcess StartScript(string script, params string[] arguments) =>
        ExternalProcess.Start(Executable, [Script(script), .. arguments], ScriptsDirectory,
            new Dictionary<string, string> { ["PYTHONUNBUFFERED"] = "1" });

    private static string Script(string name)
    {
        var path = Path.Combine(ScriptsDirectory, name);
        Prerequisite.File(path, "git checkout tests/Interop/python");
        return path;
    }
}
