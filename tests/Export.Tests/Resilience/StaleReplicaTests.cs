using Microservices.Export.Jobs;
using Microservices.Export.Storage;
using Microservices.ExportFormat;
using Microservices.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Microservices.Export.Tests.Resilience;

/// <summary>
/// A replica that lost its job (paused past its lease, then woke up) and now fails: ending the job
/// is the new owner's business. Against a real redis-server and s3rver.
/// </summary>
[Collection(ResilienceCollection.Name)]
public sealed class StaleReplicaTests
{
    [Fact]
    public async Task A_replica_whose_fence_is_stale_cannot_end_the_job_nor_drop_the_new_owners_checkpoints()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var s3 = await S3Server.StartAsync("exports");
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint);
        using var storage = new S3ArchiveStorage(new S3Options
        {
            ServiceUrl = s3.ServiceUrl,
            Bucket = s3.Bucket,
            AccessKey = S3Server.AccessKey,
            SecretKey = S3Server.SecretKey,
            Compatibility = true,
        });
        var store = new RedisJobStore(connection, "t:");
        var finisher = new JobFinisher(storage, new Microservices.Export.Extensions.ExportOptions(), TimeProvider.System, NullLogger<JobFinisher>.Instance);
        var id = Guid.NewGuid().ToString("N");
        var key = ArchiveKeys.Export("alice", id);
        var record = new JobRecord { Id = id, Kind = JobKind.Export, Owner = "alice", CreatedAt = DateTimeOffset.UtcNow, ObjectKey = key };
        await store.CreateAsync(record, CancellationToken.None);

        var staleFence = await store.ClaimAsync(id, CancellationToken.None);
        var stale = new RunningJob(store, record, staleFence, TimeProvider.System, TimeSpan.Zero);
        await stale.SaveAsync(record with { State = JobState.Running, UploadId = await storage.StartUploadAsync(key, CancellationToken.None) }, CancellationToken.None);

        // Another replica takes the job over and uploads and checkpoints part 1.
        var owner = new RunningJob(store, stale.Record, await store.ClaimAsync(id, CancellationToken.None), TimeProvider.System, TimeSpan.Zero);
        var part = new byte[1000];
        Random.Shared.NextBytes(part);
        var etag = await storage.UploadPartAsync(key, owner.Record.UploadId!, 1, new MemoryStream(part), part.Length, CancellationToken.None);
        Assert.True(await store.AppendCheckpointAsync(id, owner.Fence, new PartCheckpoint(1, etag, part.Length, [], ExportCursor.Begin(ExportPhase.Manifest), ExportTally.Zero), CancellationToken.None));

        await Assert.ThrowsAsync<JobLeaseLostException>(() => finisher.FinishAsync(stale, JobState.Failed, new JobError("INTERNAL", "stale failure"), CancellationToken.None));

        var stored = await store.GetAsync(id, CancellationToken.None);
        Assert.Equal(JobState.Running, stored!.State);
        Assert.Null(stored.Error);
        Assert.Equal([1], (await store.CheckpointsAsync(id, CancellationToken.None)).Select(c => c.PartNumber));
        await storage.CompleteUploadAsync(key, owner.Record.UploadId!, [(1, etag)], CancellationToken.None);
        Assert.Equal(part.Length, await storage.SizeAsync(key, CancellationToken.None));
    }
}
