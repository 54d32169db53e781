using System.Diagnostics;
using Grpc.Core;
using Microservices.Export.V1;
using Microservices.TestSupport;

namespace Microservices.Export.Tests.Support;

/// <summary>Export calls the resilience tests share: a traced start, waiting for a stage of a running job, and reading it to the end.</summary>
internal static class ExportCalls
{
    /// <summary>StartExport inside a client-side activity, as a caller with its own trace would make it; returns that trace.</summary>
    public static async Task<(ExportJob Job, ActivityTraceId Trace)> StartTracedAsync(ExportService.ExportServiceClient client, string owner)
    {
        // Recorded, as a sampled caller's span is: the parent-based sampler drops children of an unsampled parent.
        using var caller = new Activity("test caller").SetIdFormat(ActivityIdFormat.W3C);
        caller.ActivityTraceFlags = ActivityTraceFlags.Recorded;
        caller.Start();
        var job = await client.StartExportAsync(new StartExportRequest(), ExportSystem.As(owner));
        return (job, caller.TraceId);
    }

    /// <summary>Polls GetExport until <paramref name="condition"/> holds; fails if the job finishes first.</summary>
    public static async Task<ExportJob> WaitUntilAsync(ExportService.ExportServiceClient client, string owner, string exportId, Func<ExportJob, bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var job = await client.GetExportAsync(new GetExportRequest { ExportId = exportId }, ExportSystem.As(owner));
            if (condition(job))
            {
                return job;
            }

            if (job.State is not (JobState.Queued or JobState.Running))
            {
                throw new InvalidOperationException($"Export {exportId} ended ({job.State}, phase {job.Progress?.Phase}, {job.Error?.Message}) before {what}.");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Export {exportId} is {job.State} in phase {job.Progress?.Phase} with {job.Progress?.PartsUploaded} parts; gave up waiting until {what}.");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Polls GetExport until the job is finished (robust to a replica going away, unlike one long WatchExport).</summary>
    public static async Task<ExportJob> FinishedAsync(ExportService.ExportServiceClient client, string owner, string exportId, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        while (true)
        {
            var job = await client.GetExportAsync(new GetExportRequest { ExportId = exportId }, ExportSystem.As(owner));
            if (job.State is not (JobState.Queued or JobState.Running))
            {
                return job;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Export {exportId} is still {job.State} in phase {job.Progress?.Phase} with {job.Progress?.PartsUploaded} parts.");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The whole archive through the Download RPC of the given replica.</summary>
    public static async Task<byte[]> DownloadAsync(ExportService.ExportServiceClient client, string owner, string exportId)
    {
        using var call = client.Download(new DownloadRequest { ExportId = exportId }, ExportSystem.As(owner));
        using var archive = new MemoryStream();
        await foreach (var chunk in call.ResponseStream.ReadAllAsync())
        {
            chunk.Data.WriteTo(archive);
        }

        return archive.ToArray();
    }
}
