using Grpc.Core;
using Microservices.Blob.Domain;
using Microservices.Blob.Tests.Support;

namespace Microservices.Blob.Tests.Service;

/// <summary>What an upload may hold and for how long: expiry from StartUpload, the per-owner cap, the staging sweep.</summary>
public sealed class UploadLifetimeTests
{
    [Fact]
    public async Task An_upload_expires_from_its_creation_even_if_written_to_recently_and_frees_all_it_held()
    {
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await BlobHost.StartAsync(time: time);
        var alice = new BlobClient(host.Channel, "alice");
        var data = TestData.Random(1000, seed: 80);
        var id = (await alice.StartUploadAsync(BlobClient.D(data))).UploadId;
        Assert.Equal(10, (await alice.UploadAsync(id, data, 0, 10)).CommittedSize);

        time.Advance(TimeSpan.FromHours(25));
        var part = Path.Combine(host.DataDirectory, "uploads", id + ".part");
        File.SetLastWriteTimeUtc(part, time.GetUtcNow().UtcDateTime); // written to "just now"
        var sessions = host.Service<UploadSessions>();
        Assert.Equal(1, await sessions.ExpireAsync(TimeSpan.FromHours(24), CancellationToken.None));

        Assert.False(File.Exists(part));
        var error = await Assert.ThrowsAsync<RpcException>(() => alice.QueryUploadAsync(id));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task Open_uploads_per_owner_are_capped()
    {
        await using var host = await BlobHost.StartAsync(new() { ["Blob:Limits:MaxOpenUploadsPerOwner"] = "2" });
        var alice = new BlobClient(host.Channel, "alice");
        var first = TestData.Random(100, seed: 81);
        var firstId = (await alice.StartUploadAsync(BlobClient.D(first))).UploadId;
        await alice.StartUploadAsync(BlobClient.D(TestData.Random(100, seed: 82)));

        var third = BlobClient.D(TestData.Random(100, seed: 83));
        var error = await Assert.ThrowsAsync<RpcException>(() => alice.StartUploadAsync(third));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("Blob:Limits:MaxOpenUploadsPerOwner", error.Status.Detail);

        await new BlobClient(host.Channel, "bob").StartUploadAsync(third);
        Assert.True((await alice.UploadAsync(firstId, first, 0, first.Length, finish: true)).Complete);
        Assert.NotEmpty((await alice.StartUploadAsync(third)).UploadId);
    }

    [Fact]
    public async Task Staging_left_by_a_dead_process_is_swept_when_the_service_starts()
    {
        await using var host = await BlobHost.StartAsync();
        var staging = host.Service<StagingArea>().Directory;
        Assert.StartsWith(host.DataDirectory, staging, StringComparison.Ordinal);
        var leftover = Path.Combine(staging, "dead.staged");
        await File.WriteAllBytesAsync(leftover, [1, 2, 3]);

        _ = new StagingArea(staging);
        Assert.False(File.Exists(leftover));
    }
}
