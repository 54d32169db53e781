using Microservices.Export.Tests.Support;
using Microservices.Export.V1;
using Microservices.TestSupport;
using Xunit.Abstractions;

namespace Microservices.Export.Tests.Resilience;

/// <summary>A dependency that goes away and comes back while an export runs costs retries, not the export.</summary>
[Collection(ResilienceCollection.Name)]
public sealed class DependencyRestartTests(ITestOutputHelper output)
{
    [Fact]
    public async Task An_export_completes_whole_when_registry_blob_and_S3_each_restart_while_it_runs()
    {
        var logs = new CapturedLogs();
        await using var system = await ExportSystem.StartAsync(new() { ["Export:PartSize"] = "5242880" }, logs: logs);
        await Seed.ModelsAsync(system, "alice", 20);
        var random = new Random(40);
        var blobs = await Seed.BlobsAsync(system, "alice", Enumerable.Range(0, 40).Select(_ => random.Next(1024 * 1024, 2 * 1024 * 1024)), seed: 3);
        using var retries = new RetryCounter();

        // Registry is down when the job starts counting.
        await system.StopRegistryAsync();
        var started = await system.Export.StartExportAsync(new StartExportRequest(), ExportSystem.As("alice"));
        await Eventually.HoldsAsync(() => retries["registry"] > 0, "the job retried the registry");
        await system.StartRegistryAsync();

        // Blob goes away while blob bytes are being read.
        var reading = await ExportCalls.WaitUntilAsync(system.Export, "alice", started.ExportId, j => j.Progress.Phase == "blob_data", "it reads blob data");
        var blobRetries = retries["blob"];
        await system.StopBlobAsync();
        await Eventually.HoldsAsync(() => retries["blob"] > blobRetries, "the job retried the blob service");
        await system.StartBlobAsync();

        // S3 is killed (as a crash) between parts and comes back with the upload's parts on disk.
        var uploading = await ExportCalls.WaitUntilAsync(system.Export, "alice", started.ExportId, j => j.Progress.PartsUploaded > reading.Progress.PartsUploaded, "another part is uploaded");
        await system.S3.StopAsync();
        await Eventually.HoldsAsync(() => retries["s3"] > 0, "the job retried S3");
        await system.S3.RestartAsync();

        var job = await Seed.FinishedAsync(system, "alice", started.ExportId);
        output.WriteLine($"blob_data at part {reading.Progress.PartsUploaded}, S3 killed after part {uploading.Progress.PartsUploaded} of {job.Progress.PartsUploaded}; retries: {retries}");
        Assert.True(job.State == JobState.Completed, $"{job.State}: {job.Error?.Code} {job.Error?.Message}");
        Assert.Equal(20, job.Archive.Models);
        Assert.Equal(40, job.Archive.Blobs);
        Assert.Equal(0, job.Takeovers);
        await ArchiveChecks.VerifiedWithBlobsAsync(system.Export, "alice", started.ExportId, blobs);

        // An operator reading the logs finds each retry under the job it belongs to.
        Assert.Contains(logs.Lines, l => l.Contains($"Starting export job {started.ExportId}", StringComparison.Ordinal));
        foreach (var dependency in new[] { "registry", "blob", "s3" })
        {
            Assert.Contains(logs.Lines, l => l.Contains($"Retrying a call to {dependency} for job {started.ExportId} ", StringComparison.Ordinal));
        }
    }
}
