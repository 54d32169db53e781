using System.Globalization;
using Microservices.Export.Tests.Support;
using Microservices.Export.V1;
using Microservices.TestSupport;

namespace Microservices.Export.Tests.Service;

/// <summary>A peer nobody here wrote: Debian's grpcio, through the repository's reflection client.</summary>
public sealed class GrpcioPeerTests
{
    private static Task<(int ExitCode, string Output)> ReflectionClientAsync(int port, params string[] args) =>
        Python.RunScriptAsync("reflection_client.py", ["--server_port", port.ToString(CultureInfo.InvariantCulture), .. args]);

    private static string Bearer(string owner) => "authorization: Bearer " + TestTokens.For(owner);

    [Fact]
    public async Task Grpcio_lists_the_export_service_starts_an_export_and_reads_it_back()
    {
        await using var system = await ExportSystem.StartAsync();
        var (code, listing) = await ReflectionClientAsync(system.ExportPort, "list", "microservices.export.v1.ExportService");
        Assert.True(code == 0, listing);
        Assert.Contains("StartExport", listing);
        Assert.Contains("WatchImport", listing);

        (code, var started) = await ReflectionClientAsync(system.ExportPort, "call", "microservices.export.v1.ExportService/StartExport", "{}", "-H", Bearer("gina"));
        Assert.True(code == 0, started);
        var id = System.Text.Json.JsonDocument.Parse(started).RootElement.GetProperty("exportId").GetString()!;
        Assert.Equal(JobState.Completed, (await Seed.FinishedAsync(system, "gina", id)).State);

        (code, var got) = await ReflectionClientAsync(system.ExportPort, "call", "microservices.export.v1.ExportService/GetExport", $"{{\"export_id\": \"{id}\"}}", "-H", Bearer("gina"));
        Assert.True(code == 0, got);
        Assert.Contains("JOB_STATE_COMPLETED", got);

        // Someone else's id: the same NOT_FOUND as an unknown one, through a real peer.
        (code, var foreign) = await ReflectionClientAsync(system.ExportPort, "call", "microservices.export.v1.ExportService/GetExport", $"{{\"export_id\": \"{id}\"}}", "-H", Bearer("mallory"));
        Assert.NotEqual(0, code);
        Assert.Contains("NOT_FOUND", foreign);
    }
}
