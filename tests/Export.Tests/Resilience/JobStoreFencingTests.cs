using Microservices.Export.Jobs;
using Microservices.ExportFormat;
using Microservices.TestSupport;
using StackExchange.Redis;

namespace Microservices.Export.Tests.Resilience;

/// <summary>Against a real redis-server: once a job is claimed again, the previous claimant can write nothing.</summary>
[Collection(ResilienceCollection.Name)]
public sealed class JobStoreFencingTests : IAsyncLifetime
{
    private RedisServer _redis = null!;
    private ConnectionMultiplexer _connection = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _connection = await ConnectionMultiplexer.ConnectAsync(_redis.Endpoint);
    }

    public async Task DisposeAsync()
    {
        await _connection.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task After_a_second_claim_the_first_fence_can_neither_save_nor_checkpoint()
    {
        var store = new RedisJobStore(_connection, "t:");
        var job = NewJob();
        await store.CreateAsync(job, CancellationToken.None);
        var first = await store.ClaimAsync(job.Id, CancellationToken.None);
        Assert.True(await store.SaveAsync(job with { State = JobState.Running }, first, CancellationToken.None));
        Assert.True(await store.AppendCheckpointAsync(job.Id, first, Checkpoint(1), CancellationToken.None));

        var second = await store.ClaimAsync(job.Id, CancellationToken.None);
        Assert.NotEqual(first, second);

        Assert.False(await store.SaveAsync(job with { State = JobState.Failed, Progress = new JobProgress { Phase = "stale" } }, first, CancellationToken.None));
        Assert.False(await store.AppendCheckpointAsync(job.Id, first, Checkpoint(2), CancellationToken.None));
        var stored = await store.GetAsync(job.Id, CancellationToken.None);
        Assert.Equal(JobState.Running, stored!.State);
        Assert.Equal([1], (await store.CheckpointsAsync(job.Id, CancellationToken.None)).Select(c => c.PartNumber));
        Assert.Contains(job.Id, await store.ActiveAsync(CancellationToken.None));

        // The new claimant writes on.
        Assert.True(await store.AppendCheckpointAsync(job.Id, second, Checkpoint(2), CancellationToken.None));
        Assert.True(await store.SaveAsync(stored with { Progress = new JobProgress { Phase = "blob_data", PartsUploaded = 2 } }, second, CancellationToken.None));
        Assert.Equal("blob_data", (await store.GetAsync(job.Id, CancellationToken.None))!.Progress.Phase);
    }

    [Fact]
    public async Task A_checkpoint_is_refused_unless_it_is_exactly_the_next_part()
    {
        var store = new RedisJobStore(_connection, "t:");
        var job = NewJob();
        await store.CreateAsync(job, CancellationToken.None);
        var fence = await store.ClaimAsync(job.Id, CancellationToken.None);

        Assert.False(await store.AppendCheckpointAsync(job.Id, fence, Checkpoint(2), CancellationToken.None));
        Assert.True(await store.AppendCheckpointAsync(job.Id, fence, Checkpoint(1), CancellationToken.None));
        Assert.False(await store.AppendCheckpointAsync(job.Id, fence, Checkpoint(1), CancellationToken.None));
        Assert.False(await store.AppendCheckpointAsync(job.Id, fence, Checkpoint(3), CancellationToken.None));
        Assert.True(await store.AppendCheckpointAsync(job.Id, fence, Checkpoint(2), CancellationToken.None));

        Assert.Equal([1, 2], (await store.CheckpointsAsync(job.Id, CancellationToken.None)).Select(c => c.PartNumber));
    }

    [Fact]
    public async Task A_fence_never_issued_writes_nothing()
    {
        var store = new RedisJobStore(_connection, "t:");
        var job = NewJob();
        await store.CreateAsync(job, CancellationToken.None);

        // Created jobs start at fence 0; a replica must claim before it writes.
        Assert.False(await store.SaveAsync(job with { State = JobState.Running }, 1, CancellationToken.None));
        Assert.False(await store.AppendCheckpointAsync(job.Id, 1, Checkpoint(1), CancellationToken.None));
        Assert.Equal(JobState.Queued, (await store.GetAsync(job.Id, CancellationToken.None))!.State);
    }

    private static JobRecord NewJob()
    {
        var id = Guid.NewGuid().ToString("N");
        return new JobRecord { Id = id, Kind = JobKind.Export, Owner = "alice", CreatedAt = DateTimeOffset.UtcNow, ObjectKey = $"exports/alice/{id}.tar.gz" };
    }

    private static PartCheckpoint Checkpoint(int part) => new(
        part,
        $"etag-{part}",
        5 * 1024 * 1024,
        [new ManifestEntry($"data/{part}", 10, new string('0', 64))],
        ExportCursor.Begin(ExportPhase.Blobs) with { FileNumber = part },
        ExportTally.Zero);
}
