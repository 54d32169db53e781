using System.Diagnostics;
using Microservices.Export.Tests.Support;
using Microservices.Export.V1;
using Xunit.Abstractions;

namespace Microservices.Export.Tests.Resilience;

/// <summary>An export reads in pages and batches: a hundred times the items is a few more calls, not a hundred times the calls.</summary>
[Collection(ResilienceCollection.Name)]
public sealed class BatchedReadTests(ITestOutputHelper output)
{
    private const int PageSize = 500;

    [Fact]
    public async Task Calls_to_registry_and_blob_grow_with_pages_not_with_items()
    {
        await using var system = await ExportSystem.StartAsync();
        await Seed.ModelsAsync(system, "few", 10, prefix: "f");
        await Seed.BlobsAsync(system, "few", Enumerable.Repeat(200, 10), seed: 1);
        await Seed.ModelsAsync(system, "many", 600, prefix: "m");
        await Seed.BlobsAsync(system, "many", Enumerable.Repeat(200, 1000), seed: 2);

        var few = await CallsOfExportAsync(system, "few", models: 10, blobs: 10);
        var many = await CallsOfExportAsync(system, "many", models: 600, blobs: 1000);

        // 600 models are 2 registry pages; 1000 blobs are 2 pages of ListBlobs (read twice: metadata,
        // then data), 2 of ListReferences and 2 BatchReads: one more call per extra page per phase.
        var extraPages = (1000 / PageSize) - 1;
        Assert.True(many.Total <= few.Total + (5 * extraPages) + 2, $"{many.Total} calls for 1,600 items against {few.Total} for 20: reads grow with items");
        Assert.True(many.Count("BatchRead") <= (1000 / PageSize) + 1, $"{many.Count("BatchRead")} BatchRead calls for 1000 small blobs");
        Assert.Equal(0, many.Count("Download"));
        Assert.True(many.Total < 50, $"{many.Total} calls");
    }

    private async Task<ExportCallCounts> CallsOfExportAsync(ExportSystem system, string owner, int models, int blobs)
    {
        var (started, trace) = await ExportCalls.StartTracedAsync(system.Export, owner);
        var job = await Seed.FinishedAsync(system, owner, started.ExportId);
        Assert.Equal(JobState.Completed, job.State);
        Assert.Equal(models, job.Archive.Models);
        Assert.Equal(blobs, job.Archive.Blobs);
        Assert.Equal(blobs, job.Archive.References);
        await SpanQueries.JobSpanAsync(system, started.ExportId);

        var spans = SpanQueries.Snapshot(system);
        var calls = SpanQueries.ClientCalls(spans, trace, SpanQueries.RegistryService)
            .Concat(SpanQueries.ClientCalls(spans, trace, SpanQueries.BlobService))
            .ToList();
        var counts = new ExportCallCounts(calls);
        output.WriteLine($"{owner}: {models} models + {blobs} blobs -> {counts.Total} calls: {counts}");
        return counts;
    }

    private sealed class ExportCallCounts(IReadOnlyList<Activity> calls)
    {
        private readonly Dictionary<string, int> _byMethod = calls
            .GroupBy(c => $"{SpanQueries.RpcService(c)![(SpanQueries.RpcService(c)!.LastIndexOf('.') + 1)..]}/{SpanQueries.RpcMethod(c)}")
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

        public int Total => calls.Count;

        public int Count(string method) => _byMethod.Where(m => m.Key.EndsWith("/" + method, StringComparison.Ordinal)).Sum(m => m.Value);

        public override string ToString() => string.Join(", ", _byMethod.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => $"{m.Key}={m.Value}"));
    }
}
