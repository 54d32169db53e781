using Microservices.Export.Tests.Support;
using Microservices.Export.V1;

namespace Microservices.Export.Tests.Resilience;

[Collection(ResilienceCollection.Name)]
public sealed class ConcurrentStartTests
{
    [Fact]
    public async Task Four_StartExport_calls_at_once_for_one_owner_make_one_job()
    {
        await using var system = await ExportSystem.StartAsync();
        await Seed.ModelsAsync(system, "alice", 2);
        // Enough bytes that the job is still running when the last call gets the owner's lock (a
        // finished export would answer RESOURCE_EXHAUSTED, rightly: the window started).
        await Seed.BlobsAsync(system, "alice", Enumerable.Repeat(1024 * 1024, 12));

        var jobs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            system.Export.StartExportAsync(new StartExportRequest(), ExportSystem.As("alice")).ResponseAsync));

        Assert.Single(jobs.Select(j => j.ExportId).Distinct());
        var listed = await system.Export.ListExportsAsync(new ListExportsRequest(), ExportSystem.As("alice"));
        Assert.Single(listed.Exports);
        Assert.Equal(JobState.Completed, (await Seed.FinishedAsync(system, "alice", jobs[0].ExportId)).State);
    }
}
