using Grpc.Core;
using Microservices.Blob.Tests.Support;
using Microservices.Blob.V1;
using Microservices.TestSupport;

namespace Microservices.Blob.Tests.Service;

public sealed class RestartTests
{
    [Fact]
    public async Task An_upload_resumes_after_the_service_restarts_and_nothing_acknowledged_is_lost()
    {
        using var data = new TempDirectory();
        var bytes = TestData.Random(2 * 1024 * 1024 + 1, seed: 70);
        string uploadId;
        await using (var first = await BlobHost.StartAsync(new() { ["DataDirectory"] = data.Path }))
        {
            var alice = new BlobClient(first.Channel, "alice");
            uploadId = (await alice.StartUploadAsync(BlobClient.D(bytes))).UploadId;
            Assert.Equal(1024 * 1024, (await alice.UploadAsync(uploadId, bytes, 0, 1024 * 1024)).CommittedSize);
        }

        await using var second = await BlobHost.StartAsync(new() { ["DataDirectory"] = data.Path });
        var again = new BlobClient(second.Channel, "alice");
        var state = await again.QueryUploadAsync(uploadId);
        Assert.Equal(1024 * 1024, state.CommittedSize);
        var done = await again.UploadAsync(uploadId, bytes, state.CommittedSize, bytes.Length, finish: true);
        Assert.True(done.Complete);
        Assert.Equal(bytes, await again.DownloadAsync(BlobClient.D(bytes)));
    }

    [Fact]
    public async Task Batch_stat_answers_per_item_and_sensitive_trace_images_are_encrypted()
    {
        await using var host = await BlobHost.StartAsync();
        var alice = new BlobClient(host.Channel, "alice");
        var png = TestData.Png(12, 12, seed: 71);
        var trace = System.Text.Encoding.ASCII.GetBytes($"![x](data:image/png;base64,{Convert.ToBase64String(png)})");
        await alice.TraceAsync("OffloadTrace", trace, new TraceChunk.Types.Header { TraceId = "secret-run", Sensitive = true });

        var request = new BatchStatRequest { Digests = { BlobClient.D(png), BlobClient.D([9, 9, 9]), new V1.Digest { Hash = "nothex", SizeBytes = 1 } } };
        var response = await alice.BatchStatAsync(request);
        Assert.Equal(0, response.Results[0].Status.Code);
        Assert.True(response.Results[0].Blob.Encrypted);
        Assert.Equal("image/png", response.Results[0].Blob.MediaType);
        Assert.Equal(1, response.Results[0].Blob.ReferenceCount);
        Assert.Equal((int)StatusCode.NotFound, response.Results[1].Status.Code);
        Assert.Equal((int)StatusCode.InvalidArgument, response.Results[2].Status.Code);
    }
}
