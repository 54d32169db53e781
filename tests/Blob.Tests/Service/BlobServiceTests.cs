using System.Text;
using Google.Protobuf;
using Microservices.Blob.Tests.Support;
using Microservices.Blob.V1;
using Grpc.Core;

namespace Microservices.Blob.Tests.Service;

/// <summary>The service over real gRPC (our client, h2c), on real files.</summary>
public sealed class BlobServiceTests : IAsyncLifetime
{
    private BlobHost _host = null!;

    private BlobClient Alice => new(_host.Channel, "alice");

    private BlobClient Bob => new(_host.Channel, "bob");

    public async Task InitializeAsync() => _host = await BlobHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static async Task<RpcException> Fails(StatusCode code, Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(code, error.StatusCode);
        return error;
    }

    [Fact]
    public async Task Batch_upload_find_missing_read_and_stat()
    {
        var png = TestData.Png(33, 17);
        var json = Encoding.UTF8.GetBytes("{\"x\":[" + string.Join(",", Enumerable.Repeat("\"same text again\"", 500)) + "]}");
        var missing = await Alice.FindMissingAsync(png, json);
        Assert.Equal(2, missing.MissingDigests.Count);

        await Alice.PutAsync(png);
        await Alice.PutAsync(json);
        Assert.Empty((await Alice.FindMissingAsync(png, json)).MissingDigests);

        var read = await Alice.BatchReadAsync(BlobClient.D(png), BlobClient.D(json));
        Assert.Equal(png, read.Results[0].Data.ToByteArray());
        Assert.Equal(json, read.Results[1].Data.ToByteArray());

        var info = await Alice.StatAsync(BlobClient.D(png));
        Assert.Equal("image/png", info.MediaType);
        Assert.Equal((33, 17), (info.Width, info.Height));
        Assert.Equal(Compression.None, info.Compression);
        Assert.Equal("alice", info.Owner);
        Assert.False(info.Encrypted);

        var jsonInfo = await Alice.StatAsync(BlobClient.D(json));
        Assert.Equal("application/json", jsonInfo.MediaType);
        Assert.Equal(Compression.Brotli, jsonInfo.Compression);
        Assert.True(jsonInfo.StoredSizeBytes < json.Length / 4);
    }

    [Fact]
    public async Task Media_type_is_sniffed_never_taken_from_the_client()
    {
        // The client says nothing about the type; a PNG labelled anything is still a PNG.
        var request = new BatchUploadRequest();
        var png = TestData.Png(5, 5, seed: 3);
        request.Items.Add(new BatchUploadRequest.Types.Item { Digest = BlobClient.D(png), Data = ByteString.CopyFrom(png), Labels = { ["content-type"] = "text/html" } });
        await Alice.BatchUploadAsync(request);
        var info = await Alice.StatAsync(BlobClient.D(png));
        Assert.Equal("image/png", info.MediaType);
        Assert.Equal("text/html", info.Labels["content-type"]);
    }

    [Fact]
    public async Task Resumable_upload_survives_a_broken_call_and_refuses_the_wrong_offset()
    {
        var data = TestData.Random(3 * 1024 * 1024 + 5, seed: 11);
        var digest = BlobClient.D(data);
        var start = await Alice.StartUploadAsync(digest);
        Assert.Equal(0, start.CommittedSize);
        Assert.Equal(32, start.UploadId.Length);

        // First call ends after 1 MiB without finishing: as good as a broken connection.
        var partial = await Alice.UploadAsync(start.UploadId, data, 0, 1024 * 1024);
        Assert.False(partial.Complete);
        Assert.Equal(1024 * 1024, partial.CommittedSize);
        await Fails(StatusCode.NotFound, () => Alice.StatAsync(digest));

        var query = await Alice.QueryUploadAsync(start.UploadId);
        Assert.Equal(1024 * 1024, query.CommittedSize);

        var wrong = await Fails(StatusCode.FailedPrecondition, () => Alice.UploadAsync(start.UploadId, data, 1024 * 1024, (1024 * 1024) + 1000, claimOffset: 4096));
        Assert.Contains("committed offset 1048576", wrong.Status.Detail);
        Assert.Equal(1024 * 1024, (await Alice.QueryUploadAsync(start.UploadId)).CommittedSize);

        var done = await Alice.UploadAsync(start.UploadId, data, query.CommittedSize, data.Length, finish: true);
        Assert.True(done.Complete);
        Assert.Equal(data.Length, done.Blob.Digest.SizeBytes);
        Assert.Equal(data, await Alice.DownloadAsync(digest));
        Assert.Equal(data.AsSpan(1000, 5000).ToArray(), await Alice.DownloadAsync(digest, 1000, 5000));
        Assert.Equal(data.AsSpan(data.Length - 10).ToArray(), await Alice.DownloadAsync(digest, data.Length - 10));
        Assert.True((await Alice.QueryUploadAsync(start.UploadId)).Complete);

        var again = await Alice.StartUploadAsync(digest);
        Assert.True(again.AlreadyExists);
    }

    [Fact]
    public async Task A_resume_of_one_empty_message_is_answered_with_where_the_upload_stands()
    {
        // blobctl always sends at least one message, also when a resume has nothing left to send.
        var data = TestData.Random(1024 * 1024 + 3, seed: 14);
        var digest = BlobClient.D(data);
        var start = await Alice.StartUploadAsync(digest);
        await Alice.UploadAsync(start.UploadId, data, 0, 1024 * 1024);

        var empty = await Alice.UploadAsync(start.UploadId, data, 1024 * 1024, 1024 * 1024);
        Assert.Equal((false, 1024 * 1024), (empty.Complete, empty.CommittedSize));
        var early = await Fails(StatusCode.InvalidArgument, () => Alice.UploadAsync(start.UploadId, data, 1024 * 1024, 1024 * 1024, finish: true));
        Assert.Contains("the 1048576 bytes stay committed", early.Status.Detail);

        var done = await Alice.UploadAsync(start.UploadId, data, 1024 * 1024, data.Length, finish: true);
        Assert.True(done.Complete);
        Assert.Equal(data, await Alice.DownloadAsync(digest));
    }

    [Fact]
    public async Task Digest_mismatch_discards_the_upload_and_nothing_is_visible()
    {
        var data = TestData.Random(300_000, seed: 12);
        var claimed = BlobClient.D(TestData.Random(300_000, seed: 13));
        var start = await Alice.StartUploadAsync(claimed);
        var error = await Fails(StatusCode.InvalidArgument, () => Alice.UploadAsync(start.UploadId, data, 0, data.Length, finish: true));
        Assert.Contains("digest mismatch", error.Status.Detail);
        await Fails(StatusCode.NotFound, () => Alice.StatAsync(claimed));
        await Fails(StatusCode.NotFound, () => Alice.QueryUploadAsync(start.UploadId));

        var batch = new BatchUploadRequest();
        batch.Items.Add(new BatchUploadRequest.Types.Item { Digest = claimed, Data = ByteString.CopyFrom(data) });
        var result = (await Alice.BatchUploadAsync(batch)).Results[0].Status;
        Assert.Equal((int)StatusCode.InvalidArgument, result.Code);
        Assert.Contains("digest mismatch", result.Message);
    }

    [Fact]
    public async Task Size_mismatch_is_rejected_per_item_and_in_uploads()
    {
        var data = TestData.Random(1000, seed: 14);
        var wrongSize = new V1.Digest { Hash = TestData.Sha256Hex(data), SizeBytes = 999 };
        var batch = new BatchUploadRequest();
        batch.Items.Add(new BatchUploadRequest.Types.Item { Digest = wrongSize, Data = ByteString.CopyFrom(data) });
        batch.Items.Add(new BatchUploadRequest.Types.Item { Digest = BlobClient.D(data), Data = ByteString.CopyFrom(data) });
        var results = (await Alice.BatchUploadAsync(batch)).Results;
        Assert.Equal((int)StatusCode.InvalidArgument, results[0].Status.Code);
        Assert.Contains("size mismatch", results[0].Status.Message);
        Assert.Equal(0, results[1].Status.Code);
        await Fails(StatusCode.NotFound, () => Alice.StatAsync(wrongSize));

        var start = await Alice.StartUploadAsync(new V1.Digest { Hash = TestData.Sha256Hex(data), SizeBytes = 10 });
        var error = await Fails(StatusCode.InvalidArgument, () => Alice.UploadAsync(start.UploadId, data, 0, data.Length));
        Assert.Contains("size mismatch", error.Status.Detail);
        Assert.Equal(0, (await Alice.QueryUploadAsync(start.UploadId)).CommittedSize);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")]
    [InlineData("../../../../etc/passwd")]
    [InlineData("zz0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    public async Task Non_hex_digest_is_invalid_argument(string hash)
    {
        var error = await Fails(StatusCode.InvalidArgument, () => Alice.StatAsync(new V1.Digest { Hash = hash, SizeBytes = 1 }));
        Assert.Contains("digest.hash", error.Status.Detail);
        await Fails(StatusCode.InvalidArgument, () => Alice.DownloadAsync(new V1.Digest { Hash = hash, SizeBytes = 1 }));
        await Fails(StatusCode.InvalidArgument, () => Alice.StartUploadAsync(new V1.Digest { Hash = hash, SizeBytes = 1 }));
    }

    [Fact]
    public async Task Oversized_batches_fail_whole_and_store_nothing()
    {
        var big = new BatchUploadRequest();
        var pieces = Enumerable.Range(0, 4).Select(i => TestData.Random(900_000, 100 + i)).ToArray();
        foreach (var piece in pieces)
        {
            big.Items.Add(new BatchUploadRequest.Types.Item { Digest = BlobClient.D(piece), Data = ByteString.CopyFrom(piece) });
        }

        var error = await Fails(StatusCode.InvalidArgument, () => Alice.BatchUploadAsync(big));
        Assert.Contains("3145728", error.Status.Detail);
        Assert.Equal(4, (await Alice.FindMissingAsync(pieces)).MissingDigests.Count);

        var many = new BatchUploadRequest();
        for (var i = 0; i < 1001; i++)
        {
            var one = BitConverter.GetBytes(i);
            many.Items.Add(new BatchUploadRequest.Types.Item { Digest = BlobClient.D(one), Data = ByteString.CopyFrom(one) });
        }

        error = await Fails(StatusCode.InvalidArgument, () => Alice.BatchUploadAsync(many));
        Assert.Contains("at most 1000", error.Status.Detail);
        Assert.Equal(2, (await Alice.FindMissingAsync(BitConverter.GetBytes(0), BitConverter.GetBytes(1000))).MissingDigests.Count);
    }

    [Fact]
    public async Task One_owner_never_sees_another_owners_blobs_or_uploads()
    {
        var secret = TestData.Png(8, 8, seed: 77);
        var digest = BlobClient.D(secret);
        await Alice.PutAsync(secret);

        // Existence does not leak: Bob gets exactly what a non-existent blob gets.
        Assert.Single((await Bob.FindMissingAsync(secret)).MissingDigests);
        await Fails(StatusCode.NotFound, () => Bob.StatAsync(digest));
        await Fails(StatusCode.NotFound, () => Bob.DownloadAsync(digest));
        Assert.Equal((int)StatusCode.NotFound, (await Bob.BatchReadAsync(digest)).Results[0].Status.Code);
        var reference = new AddReferencesRequest { References = { new V1.Reference { TraceId = "t", EventId = "e", Digest = digest } } };
        await Fails(StatusCode.NotFound, () => Bob.AddReferencesAsync(reference));

        var upload = await Alice.StartUploadAsync(BlobClient.D(TestData.Random(10, 5)));
        await Fails(StatusCode.NotFound, () => Bob.QueryUploadAsync(upload.UploadId));
        await Fails(StatusCode.NotFound, () => Bob.UploadAsync(upload.UploadId, TestData.Random(10, 5), 0, 10));

        // Bob proves possession by uploading the bytes; then it is his too (stored once).
        await Bob.PutAsync(secret);
        Assert.Equal("bob", (await Bob.StatAsync(digest)).Owner);
        Assert.Single(Directory.EnumerateFiles(Path.Combine(_host.DataDirectory, "objects"), digest.Hash, SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("../alice")]
    [InlineData("alice/../../bob")]
    [InlineData(".hidden")]
    public async Task Missing_or_malformed_owner_is_unauthenticated(string? owner)
    {
        var options = owner is null ? new CallOptions() : BlobHost.As(owner);
        var request = new StatRequest { Digest = BlobClient.D([1]) };
        await Fails(StatusCode.Unauthenticated, () => new BlobService.BlobServiceClient(_host.Channel).StatAsync(request, options).ResponseAsync);
    }

    [Theory]
    [InlineData("../../../etc/passwd")]
    [InlineData("0123456789abcdef0123456789abcdeF")]
    [InlineData("")]
    public async Task Path_tricks_in_upload_ids_are_invalid_argument(string uploadId)
    {
        await Fails(StatusCode.InvalidArgument, () => Alice.QueryUploadAsync(uploadId));
        await Fails(StatusCode.InvalidArgument, () => Alice.UploadAsync(uploadId, [1], 0, 1));
    }

    [Fact]
    public async Task Path_tricks_in_trace_and_event_ids_are_only_data()
    {
        var data = TestData.Random(100, seed: 31);
        await Alice.PutAsync(data);
        var add = new AddReferencesRequest { References = { new V1.Reference { TraceId = "../../etc/passwd", EventId = "..\\..\\x", Digest = BlobClient.D(data) } } };
        await Alice.AddReferencesAsync(add);
        var list = await Alice.ListReferencesAsync(new ListReferencesRequest { TraceId = "../../etc/passwd" });
        Assert.Equal("..\\..\\x", Assert.Single(list.References).EventId);
        var control = new AddReferencesRequest { References = { new V1.Reference { TraceId = "a\nb", EventId = "e", Digest = BlobClient.D(data) } } };
        var error = await Fails(StatusCode.InvalidArgument, () => Alice.AddReferencesAsync(control));
        Assert.Contains("references[0].trace_id", error.Status.Detail);
    }

    [Fact]
    public async Task Sensitive_blobs_are_encrypted_at_rest()
    {
        var text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("patient record ", 1000)));
        await Alice.PutAsync(text, sensitive: true);
        var info = await Alice.StatAsync(BlobClient.D(text));
        Assert.True(info.Encrypted);
        Assert.Equal("k1", info.KeyId);
        Assert.Equal(text, await Alice.DownloadAsync(BlobClient.D(text)));
        foreach (var file in Directory.EnumerateFiles(Path.Combine(_host.DataDirectory, "objects"), "*", SearchOption.AllDirectories))
        {
            Assert.Equal(-1, File.ReadAllBytes(file).AsSpan().IndexOf("patient record"u8));
        }
    }

    [Fact]
    public async Task References_list_in_pages()
    {
        var data = TestData.Random(64, seed: 40);
        await Alice.PutAsync(data);
        var add = new AddReferencesRequest();
        for (var i = 0; i < 25; i++)
        {
            add.References.Add(new V1.Reference { TraceId = "run-1", EventId = $"e{i:D2}", Digest = BlobClient.D(data) });
        }

        Assert.Equal(25, (await Alice.AddReferencesAsync(add)).Added);
        var seen = new List<string>();
        var token = "";
        do
        {
            var page = await Alice.ListReferencesAsync(new ListReferencesRequest { TraceId = "run-1", PageSize = 10, PageToken = token });
            Assert.True(page.References.Count <= 10);
            seen.AddRange(page.References.Select(r => r.EventId));
            token = page.NextPageToken;
        }
        while (token != "");

        Assert.Equal(Enumerable.Range(0, 25).Select(i => $"e{i:D2}"), seen);
        Assert.Equal(25, (await Alice.StatAsync(BlobClient.D(data))).ReferenceCount);
        Assert.Empty((await Bob.ListReferencesAsync(new ListReferencesRequest { TraceId = "run-1" })).References);
        await Fails(StatusCode.InvalidArgument, () => Alice.ListReferencesAsync(new ListReferencesRequest { TraceId = "run-1", PageSize = 5000 }));
    }
}
