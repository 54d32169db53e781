using Microservices.Blob.Caching;
using Microservices.Blob.Tests.Support;
using Microservices.TestSupport;

namespace Microservices.Blob.Tests.Service;

/// <summary>The service on the S3 backend (s3rver) with the local byte cache in front.</summary>
public sealed class S3BackendTests(S3rverFixture s3) : IClassFixture<S3rverFixture>
{
    private Task<BlobHost> StartAsync() => BlobHost.StartAsync(new()
    {
        ["Blob:Storage:Kind"] = "s3",
        ["Blob:Storage:S3:ServiceUrl"] = s3.Server.ServiceUrl,
        ["Blob:Storage:S3:Bucket"] = S3rverFixture.Bucket,
        ["Blob:Storage:S3:Prefix"] = $"svc{Guid.NewGuid():N}/",
        ["Blob:Storage:S3:AccessKey"] = S3Server.AccessKey,
        ["Blob:Storage:S3:SecretKey"] = S3Server.SecretKey,
        ["Blob:Storage:S3:Compatibility"] = "true",
        ["Blob:Cache:MaxBytes"] = "3000000",
    });

    [Fact]
    public async Task Reads_go_through_a_verified_lru_cache_and_a_corrupted_entry_is_refetched()
    {
        await using var host = await StartAsync();
        var alice = new BlobClient(host.Channel, "alice");
        var data = TestData.Random(1_000_000, seed: 21);
        await alice.PutAsync(data);
        var cache = host.Service<LocalBlobCache>();

        Assert.Equal(data, await alice.DownloadAsync(BlobClient.D(data)));
        Assert.Equal(1, cache.Misses);
        Assert.Equal(data, await alice.DownloadAsync(BlobClient.D(data)));
        Assert.Equal(1, cache.Hits);

        var path = cache.PathOf(TestData.Sha256Hex(data));
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[500] ^= 0xFF;
        await File.WriteAllBytesAsync(path, bytes);
        Assert.Equal(data, await alice.DownloadAsync(BlobClient.D(data)));
        Assert.Equal(1, cache.CorruptDropped);
        Assert.Equal(2, cache.Misses);

        // Bounded in bytes: three more 1 MB blobs evict the oldest.
        for (var i = 0; i < 3; i++)
        {
            var other = TestData.Random(1_000_000, seed: 30 + i);
            await alice.PutAsync(other);
            Assert.Equal(other, await alice.DownloadAsync(BlobClient.D(other)));
        }

        Assert.True(cache.Bytes <= 3_000_000, $"cache holds {cache.Bytes} bytes");
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task Large_upload_goes_multipart_and_reads_back()
    {
        await using var host = await StartAsync();
        var alice = new BlobClient(host.Channel, "alice");
        var data = TestData.Random(20 * 1024 * 1024, seed: 22);
        var start = await alice.StartUploadAsync(BlobClient.D(data));
        var done = await alice.UploadAsync(start.UploadId, data, 0, data.Length, chunk: 1024 * 1024, finish: true);
        Assert.True(done.Complete);
        Assert.Equal(data, await alice.DownloadAsync(BlobClient.D(data)));
    }
}
