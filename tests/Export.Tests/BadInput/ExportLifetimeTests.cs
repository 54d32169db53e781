using Grpc.Core;
using Microservices.Export.Storage;
using Microservices.Export.Tests.Support;
using Microservices.Export.V1;
using Microservices.TestSupport;
using static Microservices.Export.Tests.Support.RpcAssert;

namespace Microservices.Export.Tests.BadInput;

/// <summary>Archives that live a second and are swept every second; a dependency that is down fails a job at once; the 24 h window.</summary>
public sealed class ShortLivedExportsFixture : IAsyncLifetime
{
    internal ExportSystem System { get; private set; } = null!;

    public async Task InitializeAsync() => System = await ExportSystem.StartAsync(new()
    {
        ["Export:Lifetime"] = "00:00:01",
        ["Export:SweepInterval"] = "00:00:01",
        ["Export:Retry:MaxAttempts"] = "1",
        ["Export:Retry:FirstDelay"] = "00:00:00.050",
        ["Export:Retry:MaxDelay"] = "00:00:00.100",
    });

    public async Task DisposeAsync() => await System.DisposeAsync();
}

public sealed class ExportLifetimeTests(ShortLivedExportsFixture fixture) : IClassFixture<ShortLivedExportsFixture>
{
    private ExportSystem System => fixture.System;

    private ExportService.ExportServiceClient Export => fixture.System.Export;

    [Fact]
    public async Task An_expired_export_cannot_be_downloaded_its_archive_is_gone_and_it_still_counts_for_the_window()
    {
        const string owner = "expiring";
        await Seed.ModelsAsync(System, owner, 2);
        var started = await Export.StartExportAsync(new StartExportRequest(), ExportSystem.As(owner));
        var completed = await Seed.FinishedAsync(System, owner, started.ExportId);
        Assert.Equal(JobState.Completed, completed.State);
        Assert.True(completed.Archive.SizeBytes > 0);

        var get = new GetExportRequest { ExportId = started.ExportId };
        await Eventually.HoldsAsync(async () => (await Export.GetExportAsync(get, ExportSystem.As(owner))).State == JobState.Expired, "the export expires", TimeSpan.FromSeconds(30));

        var url = await FailsAsync(StatusCode.FailedPrecondition, async () => await Export.GetDownloadUrlAsync(new GetDownloadUrlRequest { ExportId = started.ExportId }, ExportSystem.As(owner)));
        Assert.Contains("expired", url.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("archive is deleted", url.Status.Detail, StringComparison.Ordinal);
        var download = await StreamFailsAsync(StatusCode.FailedPrecondition, () => Export.Download(new DownloadRequest { ExportId = started.ExportId }, ExportSystem.As(owner)));
        Assert.Contains("expired", download.Status.Detail, StringComparison.Ordinal);
        await FailsAsync(StatusCode.FailedPrecondition, async () => await Export.StartImportAsync(new StartImportRequest { ExportId = started.ExportId }, ExportSystem.As(owner)));
        await FailsAsync(StatusCode.FailedPrecondition, async () => await Export.CancelExportAsync(get, ExportSystem.As(owner)));
        Assert.Null(await System.ExportService<IArchiveStorage>().SizeAsync(ArchiveKeys.Export(owner, started.ExportId), CancellationToken.None));

        // The owner did get that archive: the window still runs from it.
        await FailsAsync(StatusCode.ResourceExhausted, async () => await Export.StartExportAsync(new StartExportRequest(), ExportSystem.As(owner)));
    }

    [Fact]
    public async Task A_failed_export_cannot_be_downloaded_and_does_not_use_up_the_window()
    {
        const string owner = "failing";
        await Seed.ModelsAsync(System, owner, 2);
        ExportJob failed;
        await System.StopRegistryAsync();
        try
        {
            var started = await Export.StartExportAsync(new StartExportRequest(), ExportSystem.As(owner));
            failed = await Seed.FinishedAsync(System, owner, started.ExportId, TimeSpan.FromSeconds(60));
        }
        finally
        {
            await System.StartRegistryAsync();
        }

        // After the restart a client may wait out its reconnect backoff; this test's registry channel is shared.
        await Eventually.HoldsAsync(RegistryAnswersAsync, "the registry answers again");

        Assert.Equal(JobState.Failed, failed.State);
        Assert.Equal("UNAVAILABLE", failed.Error.Code);
        var url = await FailsAsync(StatusCode.FailedPrecondition, async () => await Export.GetDownloadUrlAsync(new GetDownloadUrlRequest { ExportId = failed.ExportId }, ExportSystem.As(owner)));
        Assert.Equal($"Export {failed.ExportId} cannot be downloaded: it is failed.", url.Status.Detail);
        await StreamFailsAsync(StatusCode.FailedPrecondition, () => Export.Download(new DownloadRequest { ExportId = failed.ExportId }, ExportSystem.As(owner)));
        await FailsAsync(StatusCode.FailedPrecondition, async () => await Export.CancelExportAsync(new GetExportRequest { ExportId = failed.ExportId }, ExportSystem.As(owner)));

        // Every failed export leaves the next one allowed at once; the export service's own registry
        // client may still be in its reconnect backoff, so a few more may fail before one completes.
        ExportJob next = failed;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (next.State != JobState.Completed && DateTime.UtcNow < deadline)
        {
            var started = await Export.StartExportAsync(new StartExportRequest(), ExportSystem.As(owner));
            Assert.NotEqual(next.ExportId, started.ExportId);
            next = await Seed.FinishedAsync(System, owner, started.ExportId);
            Assert.True(next.State is JobState.Completed or JobState.Failed, $"{next.State}: {next.Error?.Message}");
        }

        Assert.Equal(JobState.Completed, next.State);
        var refused = await FailsAsync(StatusCode.ResourceExhausted, async () => await Export.StartExportAsync(new StartExportRequest(), ExportSystem.As(owner)));
        Assert.Contains(next.ExportId, refused.Status.Detail, StringComparison.Ordinal);
    }

    private async Task<bool> RegistryAnswersAsync()
    {
        try
        {
            await System.Registry.ListAsync(new Registry.V1.ListModelsRequest { PageSize = 1 }, ExportSystem.As("probe"));
            return true;
        }
        catch (RpcException)
        {
            await Task.Delay(200);
            return false;
        }
    }
}
