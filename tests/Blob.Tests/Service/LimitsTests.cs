using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Microservices.Blob.Tests.Support;
using Microservices.Blob.V1;
using Microservices.Clients;
using Microservices.TestSupport;

namespace Microservices.Blob.Tests.Service;

/// <summary>Blob:Limits:MaxBlobBytes, MaxDataUriBytes and OwnerQuotaBytes on a real host.</summary>
public sealed class LimitsTests
{
    private static async Task<RpcException> Fails(StatusCode code, Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(code == error.StatusCode, $"expected {code}, got {error.Status} ({error.Status.DebugException})");
        return error;
    }

    /// <summary>
    /// A client stream the server refuses while alice still sends, over a channel of its own: the
    /// refusal can make the client's HTTP/2 handler break the connection under the next call
    /// (GOAWAY; that call is re-sent without its first messages, services/Clients/README.md).
    /// The client's last write may also race the server ending the call and report its own
    /// transport error instead of the server's status (seen in CI): then it asks again, on a new
    /// channel, at most three times.
    /// </summary>
    private static async Task<RpcException> RefusedStreamFails(StatusCode code, BlobHost host, Func<BlobClient, Task> call)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var channel = GrpcChannels.Create($"http://127.0.0.1:{host.Port}");
            var error = await Assert.ThrowsAsync<RpcException>(() => call(new BlobClient(channel, () => BlobHost.As("alice"))));
            if (attempt < 3 && error.StatusCode == StatusCode.Internal && error.Status.DebugException is { } transport && ServerEndedWrite.Is(transport))
            {
                continue;
            }

            Assert.True(code == error.StatusCode, $"expected {code}, got {error.Status} ({error.Status.DebugException})");
            return error;
        }
    }

    private static string Uploads(BlobHost host) => Path.Combine(host.DataDirectory, "uploads");

    [Fact]
    public async Task StartUpload_over_the_default_max_blob_size_is_resource_exhausted_and_leaves_no_session()
    {
        await using var host = await BlobHost.StartAsync();
        var alice = new BlobClient(host.Channel, "alice");
        var error = await Fails(StatusCode.ResourceExhausted, () => alice.StartUploadAsync(new V1.Digest { Hash = new string('a', 64), SizeBytes = 1L << 62 }));
        Assert.Equal("digest.size_bytes 4611686018427387904 is over Blob:Limits:MaxBlobBytes (4294967296)", error.Status.Detail);
        Assert.Empty(Directory.Exists(Uploads(host)) ? Directory.GetFiles(Uploads(host)) : []);

        // Exactly the limit is still accepted (a session is opened).
        var atLimit = await alice.StartUploadAsync(new V1.Digest { Hash = new string('b', 64), SizeBytes = 4L << 30 });
        Assert.NotEmpty(atLimit.UploadId);
        Assert.Single(Directory.GetFiles(Uploads(host)));
    }

    [Fact]
    public async Task Negative_sizes_are_invalid_argument()
    {
        await using var host = await BlobHost.StartAsync();
        var alice = new BlobClient(host.Channel, "alice");
        var error = await Fails(StatusCode.InvalidArgument, () => alice.StartUploadAsync(new V1.Digest { Hash = new string('a', 64), SizeBytes = -1 }));
        Assert.Contains("digest.size_bytes must not be negative", error.Status.Detail);

        var batch = new BatchUploadRequest();
        batch.Items.Add(new BatchUploadRequest.Types.Item { Digest = new V1.Digest { Hash = new string('a', 64), SizeBytes = -5 }, Data = ByteString.CopyFrom(1, 2, 3) });
        var status = (await alice.BatchUploadAsync(batch)).Results[0].Status;
        Assert.Equal((int)StatusCode.InvalidArgument, status.Code);
        Assert.Contains("items[0].digest.size_bytes must not be negative", status.Message);
    }

    [Fact]
    public async Task BatchUpload_item_over_the_max_blob_size_is_resource_exhausted_and_not_stored()
    {
        await using var host = await BlobHost.StartAsync(new() { ["Blob:Limits:MaxBlobBytes"] = "1000" });
        var alice = new BlobClient(host.Channel, "alice");
        var small = TestData.Random(1000, seed: 3);
        var big = TestData.Random(1001, seed: 4);
        var batch = new BatchUploadRequest();
        batch.Items.Add(new BatchUploadRequest.Types.Item { Digest = BlobClient.D(big), Data = ByteString.CopyFrom(big) });
        batch.Items.Add(new BatchUploadRequest.Types.Item { Digest = BlobClient.D(small), Data = ByteString.CopyFrom(small) });
        var results = (await alice.BatchUploadAsync(batch)).Results;
        Assert.Equal((int)StatusCode.ResourceExhausted, results[0].Status.Code);
        Assert.Equal("items[0].digest.size_bytes 1001 is over Blob:Limits:MaxBlobBytes (1000)", results[0].Status.Message);
        Assert.Equal((int)StatusCode.OK, results[1].Status.Code);
        Assert.Equal([BlobClient.D(big)], (await alice.FindMissingAsync(big, small)).MissingDigests);
    }

    private static byte[] Trace(params byte[][] payloads) =>
        Encoding.ASCII.GetBytes(string.Concat(payloads.Select((p, i) => $"step {i} ![x](data:image/png;base64,{Convert.ToBase64String(p)})\n")));

    [Fact]
    public async Task Data_uri_over_the_max_stays_inline_or_fails_strictly_with_its_offset()
    {
        await using var host = await BlobHost.StartAsync(new() { ["Blob:Limits:MaxDataUriBytes"] = "1000" });
        var alice = new BlobClient(host.Channel, "alice");
        var atLimit = TestData.Random(1000, seed: 5);
        var justOver = TestData.Random(1001, seed: 6); // over only through the padded last group
        var huge = TestData.Random(600_000, seed: 7); // over while decoding, beyond one window
        var trace = Trace(atLimit, justOver, huge);

        var (slim, summary) = await alice.TraceAsync("OffloadTrace", trace, new TraceChunk.Types.Header { TraceId = "t" }, chunk: 4096);
        Assert.Equal(3, summary.DataUris);
        Assert.Equal(1, summary.Offloaded);
        Assert.Equal(2, summary.LeftInline);
        var text = Encoding.ASCII.GetString(slim);
        Assert.Contains(Convert.ToBase64String(justOver), text);
        Assert.Contains(Convert.ToBase64String(huge), text);
        Assert.Equal(2, (await alice.FindMissingAsync(justOver, huge)).MissingDigests.Count);
        var (hydrated, _) = await alice.TraceAsync("HydrateTrace", slim, new TraceChunk.Types.Header());
        Assert.Equal(trace, hydrated);

        var strict = Trace(atLimit, huge);
        var strictText = Encoding.ASCII.GetString(strict);
        var hugeOffset = strictText.IndexOf("data:", strictText.IndexOf("data:", StringComparison.Ordinal) + 1, StringComparison.Ordinal);
        var error = await RefusedStreamFails(StatusCode.ResourceExhausted, host, c => c.TraceAsync("OffloadTrace", strict, new TraceChunk.Types.Header { TraceId = "t2", Strict = true }));
        Assert.Equal($"data: URI payload at byte offset {hugeOffset} is over Blob:Limits:MaxDataUriBytes (1000 bytes decoded)", error.Status.Detail);
        error = await RefusedStreamFails(StatusCode.ResourceExhausted, host, c => c.TraceAsync("OffloadTrace", Trace(justOver), new TraceChunk.Types.Header { TraceId = "t3", Strict = true }));
        Assert.Contains("offset 12 ", error.Status.Detail);
        Assert.Equal(2, (await alice.FindMissingAsync(justOver, huge)).MissingDigests.Count);
    }

    [Fact]
    public async Task Offload_never_stores_a_payload_over_the_max_blob_size()
    {
        await using var host = await BlobHost.StartAsync(new() { ["Blob:Limits:MaxBlobBytes"] = "500" });
        var error = await RefusedStreamFails(StatusCode.ResourceExhausted, host, c => c.TraceAsync("OffloadTrace", Trace(TestData.Random(501, seed: 8)), new TraceChunk.Types.Header { TraceId = "t", Strict = true }));
        Assert.Equal("data: URI payload at byte offset 12 is over Blob:Limits:MaxBlobBytes (500 bytes decoded)", error.Status.Detail);
    }

    [Fact]
    public async Task Over_the_owner_quota_uploads_batches_and_offloads_are_resource_exhausted_and_store_nothing()
    {
        await using var host = await BlobHost.StartAsync(new() { ["Blob:Limits:OwnerQuotaBytes"] = "1000" });
        var alice = new BlobClient(host.Channel, "alice");
        var held = TestData.Random(600, seed: 70);
        await alice.PutAsync(held);
        await alice.PutAsync(held); // already hers: adds nothing to her usage

        var over = TestData.Random(500, seed: 71);
        var batch = new BatchUploadRequest { Items = { new BatchUploadRequest.Types.Item { Digest = BlobClient.D(over), Data = ByteString.CopyFrom(over) } } };
        var item = (await alice.BatchUploadAsync(batch)).Results[0].Status;
        Assert.Equal((int)StatusCode.ResourceExhausted, item.Code);
        Assert.Equal("storage quota: alice holds 600 bytes, this blob adds 500, over Blob:Limits:OwnerQuotaBytes (1000)", item.Message);

        var start = await Fails(StatusCode.ResourceExhausted, () => alice.StartUploadAsync(BlobClient.D(over)));
        Assert.Contains("Blob:Limits:OwnerQuotaBytes (1000)", start.Status.Detail);
        Assert.Empty(Directory.EnumerateFiles(Uploads(host)));

        var offload = await RefusedStreamFails(StatusCode.ResourceExhausted, host, c => c.TraceAsync("OffloadTrace", Trace(over), new TraceChunk.Types.Header { TraceId = "t" }));
        Assert.Contains("alice holds 600 bytes", offload.Status.Detail);

        Assert.Single((await alice.FindMissingAsync(over)).MissingDigests);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(host.DataDirectory, "staging")));

        // The quota is per owner: bob stores the same bytes.
        await new BlobClient(host.Channel, "bob").PutAsync(over);
    }
}
