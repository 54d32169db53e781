using System.Diagnostics;
using Microservices.Export.Tests.Support;
using Microservices.Export.V1;
using Xunit.Abstractions;

namespace Microservices.Export.Tests.Resilience;

/// <summary>An export is one trace, from the caller's StartExport through the job (on whichever replica) to registry, blob and S3.</summary>
[Collection(ResilienceCollection.Name)]
public sealed class TraceTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_job_its_calls_the_servers_answering_them_and_the_S3_requests_share_the_callers_trace()
    {
        await using var system = await ExportSystem.StartAsync();
        await Seed.ModelsAsync(system, "alice", 4);
        await Seed.BlobsAsync(system, "alice", [100, 5000, 3 * 1024 * 1024 + 5]);

        var (started, trace) = await ExportCalls.StartTracedAsync(system.Export, "alice");
        Assert.Equal(JobState.Completed, (await Seed.FinishedAsync(system, "alice", started.ExportId)).State);
        var job = await SpanQueries.JobSpanAsync(system, started.ExportId);
        var spans = SpanQueries.Snapshot(system);

        Assert.Equal(trace, job.TraceId);
        var startServer = Assert.Single(spans, s => s.Kind == ActivityKind.Server && s.DisplayName.EndsWith(".ExportService/StartExport", StringComparison.Ordinal) && s.TraceId == trace);
        Assert.Equal(startServer.SpanId, job.ParentSpanId);

        // Every call the job made into registry and blob is answered by a server span under it.
        var clients = SpanQueries.ClientCalls(spans, trace, SpanQueries.RegistryService)
            .Concat(SpanQueries.ClientCalls(spans, trace, SpanQueries.BlobService))
            .ToList();
        Assert.Contains(clients, c => SpanQueries.RpcService(c) == SpanQueries.RegistryService);
        Assert.Contains(clients, c => SpanQueries.RpcMethod(c) == "BatchRead");
        Assert.Contains(clients, c => SpanQueries.RpcMethod(c) == "Download");
        var servers = SpanQueries.ServerCalls(spans, trace, SpanQueries.RegistryService)
            .Concat(SpanQueries.ServerCalls(spans, trace, SpanQueries.BlobService))
            .ToList();
        Assert.All(clients, c => Assert.Contains(servers, s => s.ParentSpanId == c.SpanId));
        Assert.Equal(clients.Count, servers.Count);

        // The S3 requests of this archive (create, each part, complete) are all in the trace.
        var s3 = SpanQueries.HttpClientCalls(spans, system.S3.Port)
            .Where(s => s.GetTagItem("url.full") is string url && url.Contains(started.ExportId, StringComparison.Ordinal))
            .ToList();
        var duringJob = s3.Where(s => s.StartTimeUtc < job.StartTimeUtc + job.Duration).ToList();
        Assert.True(duringJob.Count >= 3, $"{duringJob.Count} S3 requests for the archive while the job ran");
        Assert.All(duringJob, s => Assert.Equal(trace, s.TraceId));
        Assert.Contains(duringJob, s => s.GetTagItem("http.request.method") as string == "PUT");

        var events = job.Events.Select(e => e.Name).ToList();
        output.WriteLine($"{clients.Count} rpc calls, {duringJob.Count} S3 requests; events: {string.Join(", ", events)}");
        Assert.Equal(
            ["phase counting", "phase models", "phase references", "phase blob_data", "phase manifest", "phase completing"],
            events.Where(e => e.StartsWith("phase ", StringComparison.Ordinal)));
    }
}
