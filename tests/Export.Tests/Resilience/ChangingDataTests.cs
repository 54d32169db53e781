using Microservices.Export.Tests.Support;
using Microservices.Export.V1;

namespace Microservices.Export.Tests.Resilience;

/// <summary>
/// The owner keeps uploading while the export runs: whatever the archive holds bytes of, its
/// metadata describes (one listing serves both), so the archive imports whole.
/// </summary>
[Collection(ResilienceCollection.Name)]
public sealed class ChangingDataTests
{
    [Fact]
    public async Task Blobs_uploaded_during_an_export_leave_an_archive_that_imports_whole()
    {
        await using var system = await ExportSystem.StartAsync(new(ExportSystem.LoopbackArchiveUrls()) { ["Export:PartSize"] = "5242880", ["Export:Source:PageSize"] = "5" });
        await Seed.BlobsAsync(system, "kim", Enumerable.Range(0, 30).Select(i => (1024 * 1024) + i), seed: 11);
        var started = await system.Export.StartExportAsync(new StartExportRequest(), ExportSystem.As("kim"));
        await ExportCalls.WaitUntilAsync(system.Export, "kim", started.ExportId, j => j.Progress.PartsUploaded >= 1, "a part is uploaded");

        // New blobs whose hashes fall before and after the pages already listed.
        await Seed.BlobsAsync(system, "kim", Enumerable.Range(0, 20).Select(i => 2048 + i), seed: 12);
        var job = await ExportCalls.FinishedAsync(system.Export, "kim", started.ExportId);
        Assert.True(job.State == JobState.Completed, job.Error?.Message);

        var url = await system.Export.GetDownloadUrlAsync(new GetDownloadUrlRequest { ExportId = started.ExportId }, ExportSystem.As("kim"));
        var import = await system.Export.StartImportAsync(new StartImportRequest { ArchiveUrl = url.Url }, ExportSystem.As("lee"));
        var done = await Seed.ImportFinishedAsync(system, "lee", import.ImportId);
        Assert.True(done.State == JobState.Completed, $"{done.Error?.Code}: {done.Error?.Message}");
        Assert.Equal(job.Archive.Blobs, done.Report.BlobsUploaded + done.Report.BlobsPresent);
        Assert.InRange(job.Archive.Blobs, 30, 50);
    }
}
