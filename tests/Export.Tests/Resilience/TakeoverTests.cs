using System.Diagnostics;
using Microservices.Clients;
using Microservices.Export.Tests.Support;
using Microservices.Export.V1;
using Microservices.TestSupport;
using Xunit.Abstractions;

namespace Microservices.Export.Tests.Resilience;

/// <summary>A replica that stops mid-export hands the job over; the next one carries on after the last uploaded part.</summary>
[Collection(ResilienceCollection.Name)]
public sealed class TakeoverTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_second_replica_takes_over_a_stopped_replicas_export_and_resumes_after_its_last_part()
    {
        await using var system = await ExportSystem.StartAsync(new() { ["Export:PartSize"] = "5242880" });
        await Seed.ModelsAsync(system, "alice", 5);
        // Blobs read in 4 MiB ranges (over BatchRead's 3 MiB) and small ones, 60 MiB in all: a dozen parts.
        var sizes = Enumerable.Range(0, 8).Select(i => (6 * 1024 * 1024) + (1000 * i)).Concat(Enumerable.Range(0, 12).Select(i => (1024 * 1024) + i));
        var blobs = await Seed.BlobsAsync(system, "alice", sizes, seed: 4);

        // Only the first replica runs when the job starts, so it is the one that runs it.
        var first = system.ExportHost;
        var (started, trace) = await ExportCalls.StartTracedAsync(system.Export, "alice");
        await ExportCalls.WaitUntilAsync(system.Export, "alice", started.ExportId, j => j.State == JobState.Running, "it runs");
        var secondPort = FreePort.Next();
        await system.AddExportReplicaAsync(secondPort);
        using var secondChannel = GrpcChannels.Create($"http://127.0.0.1:{secondPort}");
        var second = new ExportService.ExportServiceClient(secondChannel);

        var before = await ExportCalls.WaitUntilAsync(system.Export, "alice", started.ExportId, j => j.Progress.PartsUploaded >= 2, "two parts are uploaded");
        await system.StopExportReplicaAsync(first);
        var stopped = await second.GetExportAsync(new GetExportRequest { ExportId = started.ExportId }, ExportSystem.As("alice"));
        Assert.Equal(JobState.Running, stopped.State);

        var job = await ExportCalls.FinishedAsync(second, "alice", started.ExportId);
        output.WriteLine($"stopped at {stopped.Progress.PartsUploaded} parts (seen {before.Progress.PartsUploaded}); resumed after part {job.ResumedAfterPart}; {job.Takeovers} takeover(s); {job.Progress.PartsUploaded} parts");
        Assert.True(job.State == JobState.Completed, $"{job.State}: {job.Error?.Code} {job.Error?.Message}");
        Assert.True(job.Takeovers >= 1, $"{job.Takeovers} takeovers");
        Assert.True(job.ResumedAfterPart >= before.Progress.PartsUploaded, $"resumed after part {job.ResumedAfterPart}, but {before.Progress.PartsUploaded} were uploaded before the stop");
        Assert.True(job.ResumedAfterPart < job.Progress.PartsUploaded, $"resumed after part {job.ResumedAfterPart} of {job.Progress.PartsUploaded}: nothing was left to do");
        await ArchiveChecks.VerifiedWithBlobsAsync(second, "alice", started.ExportId, blobs);

        // The takeover continues the caller's trace, and says where it resumed.
        Activity? resumed = null;
        await Eventually.HoldsAsync(
            () => (resumed = SpanQueries.Snapshot(system).FirstOrDefault(s => s.DisplayName == "export job" && s.GetTagItem("export.job.takeover") is true && s.GetTagItem("export.job.id") as string == started.ExportId)) is not null,
            "the takeover's job span has ended");
        Assert.Equal(trace, resumed!.TraceId);
        var resumedEvent = Assert.Single(resumed.Events, e => e.Name == "resumed");
        Assert.Equal(job.ResumedAfterPart, Convert.ToInt32(resumedEvent.Tags.Single(t => t.Key == "export.part").Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task A_replica_killed_outright_is_taken_over_once_its_lease_lapses_and_resumed_after_its_last_part()
    {
        await using var system = await ExportSystem.StartAsync(new() { ["Export:PartSize"] = "5242880" });
        await Seed.ModelsAsync(system, "alice", 5);
        var blobs = await Seed.BlobsAsync(system, "alice", Enumerable.Range(0, 40).Select(i => (1536 * 1024) + i), seed: 5);

        // The job runs in a process of its own, the only replica until it is killed.
        await system.StopExportReplicaAsync(system.ExportHost);
        var port = FreePort.Next();
        await using var process = await ExportProcess.StartAsync(system, port);
        using var channel = GrpcChannels.Create($"http://127.0.0.1:{port}");
        var killed = new ExportService.ExportServiceClient(channel);
        var started = await killed.StartExportAsync(new StartExportRequest(), ExportSystem.As("alice"));
        var before = await ExportCalls.WaitUntilAsync(killed, "alice", started.ExportId, j => j.Progress.PartsUploaded >= 2, "two parts are uploaded");
        process.Kill();

        var replicaPort = FreePort.Next();
        await system.AddExportReplicaAsync(replicaPort);
        using var replicaChannel = GrpcChannels.Create($"http://127.0.0.1:{replicaPort}");
        var replica = new ExportService.ExportServiceClient(replicaChannel);

        // The new replica (the service started again) knows every job before it has run any.
        var listed = await replica.ListExportsAsync(new ListExportsRequest(), ExportSystem.As("alice"));
        Assert.Contains(listed.Exports, e => e.ExportId == started.ExportId);
        var job = await ExportCalls.FinishedAsync(replica, "alice", started.ExportId);
        output.WriteLine($"killed after {before.Progress.PartsUploaded}+ parts; resumed after part {job.ResumedAfterPart}; {job.Takeovers} takeover(s); {job.Progress.PartsUploaded} parts");
        Assert.True(job.State == JobState.Completed, $"{job.State}: {job.Error?.Code} {job.Error?.Message}");
        Assert.True(job.Takeovers >= 1, $"{job.Takeovers} takeovers");
        Assert.True(job.ResumedAfterPart >= before.Progress.PartsUploaded, $"resumed after part {job.ResumedAfterPart}, but {before.Progress.PartsUploaded} were uploaded before the kill");
        await ArchiveChecks.VerifiedWithBlobsAsync(replica, "alice", started.ExportId, blobs);
    }
}
