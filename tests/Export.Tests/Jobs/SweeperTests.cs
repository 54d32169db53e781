using Microservices.Caching.Coordination;
using Microservices.Export.Jobs;
using Microservices.Export.Storage;
using Microservices.Export.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microservices.TestSupport;
using StackExchange.Redis;

namespace Microservices.Export.Tests.Jobs;

/// <summary>
/// The sweeper aborts multipart uploads no unfinished job owns once they are old enough. s3rver cannot
/// list uploads (501), so here the listing is supplied and everything else is the real S3 and Redis.
/// </summary>
public sealed class SweeperTests
{
    [Fact]
    public async Task Old_uploads_no_unfinished_job_owns_are_aborted_and_live_or_young_ones_are_not()
    {
        await using var system = await ExportSystem.StartAsync();
        var redis = system.ExportService<IConnectionMultiplexer>();
        var store = new RedisJobStore(redis, $"sweeper-test-{Guid.NewGuid():N}:");
        var now = DateTimeOffset.UtcNow;

        async Task<JobRecord> JobAsync(JobState state, string uploadId)
        {
            var id = Guid.NewGuid().ToString("N");
            var job = new JobRecord { Id = id, Kind = JobKind.Export, Owner = "hal", CreatedAt = now, ObjectKey = ArchiveKeys.Export("hal", id), UploadId = uploadId };
            await store.CreateAsync(job, CancellationToken.None);
            var saved = job with { State = state };
            Assert.True(await store.SaveAsync(saved, await store.ClaimAsync(id, CancellationToken.None), CancellationToken.None));
            return saved;
        }

        var running = await JobAsync(JobState.Running, "live-upload");
        var failed = await JobAsync(JobState.Failed, "failed-upload");
        var old = now - TimeSpan.FromHours(2);
        var storage = new ListedUploads(system.ExportService<IArchiveStorage>(),
        [
            new PendingUpload(running.ObjectKey, "live-upload", old),
            new PendingUpload(failed.ObjectKey, "failed-upload", old),
            new PendingUpload(ArchiveKeys.Export("hal", Guid.NewGuid().ToString("N")), "unknown-job", old),
            new PendingUpload(running.ObjectKey, "stale-upload-of-a-live-job", old),
            new PendingUpload(ArchiveKeys.Export("hal", Guid.NewGuid().ToString("N")), "young", now - TimeSpan.FromMinutes(5)),
        ]);
        var sweeper = new JobSweeper(store, storage, system.ExportService<ILeaseLockProvider>(), new Microservices.Export.Extensions.ExportOptions { OrphanUploadAge = TimeSpan.FromHours(1) }, TimeProvider.System, NullLogger<JobSweeper>.Instance);

        // The host's own sweeper runs once at start (then every minute) under the same lease: let it finish first.
        var leases = system.ExportService<ILeaseLockProvider>();
        await Eventually.HoldsAsync(async () =>
        {
            await using var probe = await leases.TryAcquireAsync("export-sweeper", TimeSpan.FromSeconds(1));
            return probe is not null;
        }, "the host's first sweep is over");

        await sweeper.SweepIfDueAsync(CancellationToken.None);

        Assert.Equal(["failed-upload", "stale-upload-of-a-live-job", "unknown-job"], storage.Aborted.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Archives_uploaded_for_import_are_deleted_once_older_than_their_lifetime()
    {
        await using var system = await ExportSystem.StartAsync();
        using var call = system.Export.UploadArchive(ExportSystem.As("ivy"));
        await call.RequestStream.WriteAsync(new Export.V1.UploadArchiveRequest { Chunk = Google.Protobuf.ByteString.CopyFrom(new byte[1000]) });
        await call.RequestStream.CompleteAsync();
        var uploaded = await call;
        Assert.True(uploaded.ExpiresAt.ToDateTimeOffset() > DateTimeOffset.UtcNow.AddHours(23));
        var storage = system.ExportService<IArchiveStorage>();
        var key = ArchiveKeys.Upload("ivy", uploaded.ArchiveId);

        await SweeperWith(system, TimeSpan.FromHours(1)).SweepIfDueAsync(CancellationToken.None);
        Assert.Equal(1000, await storage.SizeAsync(key, CancellationToken.None));

        await Task.Delay(TimeSpan.FromSeconds(1.5));
        await SweeperWith(system, TimeSpan.FromSeconds(1)).SweepIfDueAsync(CancellationToken.None);
        Assert.Null(await storage.SizeAsync(key, CancellationToken.None));
    }

    private static JobSweeper SweeperWith(ExportSystem system, TimeSpan uploadLifetime) => new(
        system.ExportService<IJobStore>(),
        system.ExportService<IArchiveStorage>(),
        new UncontendedLeases(),
        new Microservices.Export.Extensions.ExportOptions { Import = new() { UploadLifetime = uploadLifetime } },
        TimeProvider.System,
        NullLogger<JobSweeper>.Instance);

    /// <summary>Leases nobody else asks for: this sweeper never waits on the host's own.</summary>
    private sealed class UncontendedLeases : ILeaseLockProvider
    {
        public Task<ILeaseLock?> TryAcquireAsync(string resource, TimeSpan lease, CancellationToken cancellationToken = default) =>
            Task.FromResult<ILeaseLock?>(new Held(resource));

        private sealed class Held(string resource) : ILeaseLock
        {
            public string Resource { get; } = resource;

            public string Token { get; } = Guid.NewGuid().ToString("N");

            public Task<bool> ExtendAsync(TimeSpan lease, CancellationToken cancellationToken = default) => Task.FromResult(true);

            public Task<bool> ReleaseAsync(CancellationToken cancellationToken = default) => Task.FromResult(true);

            public ValueTask DisposeAsync() => default;
        }
    }

    /// <summary>The real storage, except that the list of unfinished uploads is given (s3rver cannot list them).</summary>
    private sealed class ListedUploads(IArchiveStorage inner, IReadOnlyList<PendingUpload> uploads) : IArchiveStorage
    {
        public List<string> Aborted { get; } = [];

        public Task<IReadOnlyList<PendingUpload>> ListUploadsAsync(string keyPrefix, CancellationToken cancellationToken) => Task.FromResult(uploads);

        public async Task<bool> AbortUploadAsync(string key, string uploadId, CancellationToken cancellationToken)
        {
            Aborted.Add(uploadId);
            return await inner.AbortUploadAsync(key, uploadId, cancellationToken);
        }

        public Task EnsureBucketAsync(CancellationToken cancellationToken) => inner.EnsureBucketAsync(cancellationToken);

        public Task<string> StartUploadAsync(string key, CancellationToken cancellationToken) => inner.StartUploadAsync(key, cancellationToken);

        public Task<string> UploadPartAsync(string key, string uploadId, int partNumber, Stream content, long length, CancellationToken cancellationToken) =>
            inner.UploadPartAsync(key, uploadId, partNumber, content, length, cancellationToken);

        public Task CompleteUploadAsync(string key, string uploadId, IReadOnlyList<(int PartNumber, string ETag)> parts, CancellationToken cancellationToken) =>
            inner.CompleteUploadAsync(key, uploadId, parts, cancellationToken);

        public Task<IReadOnlyList<string>> ListOlderThanAsync(string keyPrefix, DateTimeOffset before, CancellationToken cancellationToken) =>
            inner.ListOlderThanAsync(keyPrefix, before, cancellationToken);

        public Task<long?> SizeAsync(string key, CancellationToken cancellationToken) => inner.SizeAsync(key, cancellationToken);

        public Task<Stream> OpenReadAsync(string key, long offset, CancellationToken cancellationToken) => inner.OpenReadAsync(key, offset, cancellationToken);

        public Task DeleteAsync(string key, CancellationToken cancellationToken) => inner.DeleteAsync(key, cancellationToken);

        public Task<string> PresignGetAsync(string key, TimeSpan lifetime) => inner.PresignGetAsync(key, lifetime);
    }
}
