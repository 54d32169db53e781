using System.Globalization;
using Microservices.TestSupport;

namespace Microservices.Export.Tests.Support;

/// <summary>
/// An export replica as a process of its own (the service's build output run with dotnet), joined
/// to an <see cref="ExportSystem"/>'s Redis, S3, registry and blob, so a test can kill it outright:
/// no graceful stop, no lease released, uploads cut off mid-part.
/// </summary>
internal static class ExportProcess
{
    /// <param name="settings">Over the installation's replica settings (<see cref="ExportSystem.ExportSettings"/>), e.g. Export:PartSize.</param>
    public static async Task<ExternalProcess> StartAsync(ExportSystem system, int port, Dictionary<string, string?>? settings = null)
    {
        // The service's own build output, of the configuration these tests were built in.
        var configuration = Path.GetFileName(Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)))!;
        var folder = RepositoryPaths.File("services", "Export", "bin", configuration, "net10.0");
        var service = Path.Combine(folder, "Microservices.Export.dll");
        Prerequisite.File(service, "dotnet build services/Export");
        var dotnet = Prerequisite.Executable("dotnet", "install the .NET SDK");
        var all = system.ExportSettings();
        foreach (var (key, value) in settings ?? [])
        {
            all[key] = value;
        }

        // Configuration keys as environment variables (Export:PartSize -> Export__PartSize).
        var environment = all.ToDictionary(kv => kv.Key.Replace(":", "__", StringComparison.Ordinal), kv => kv.Value ?? "");
        environment["Kestrel__Endpoints__Grpc__Url"] = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        environment["OTEL_SDK_DISABLED"] = "true";
        var process = ExternalProcess.Start(dotnet, [service], folder, environment);
        try
        {
            await process.WaitForPortAsync(port, TimeSpan.FromSeconds(60));
            return process;
        }
        catch (Exception error)
        {
            var output = process.Output;
            await process.DisposeAsync();
            throw new InvalidOperationException($"The export process did not start listening on {port}:\n{output}", error);
        }
    }
}
