using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Microservices.Blob.Domain;
using Microservices.Blob.Tests.Support;
using Microservices.Blob.V1;

namespace Microservices.Blob.Tests.Service;

/// <summary>
/// ListBlobs and unfiltered ListReferences: what an export pages through. Over real gRPC, on real
/// files; every page is checked against what was stored.
/// </summary>
public sealed class ListingTests : IAsyncLifetime
{
    private BlobHost _host = null!;

    private BlobClient Alice => new(_host.Channel, "alice");

    private BlobClient Bob => new(_host.Channel, "bob");

    public async Task InitializeAsync() => _host = await BlobHost.StartAsync(new() { ["Blob:Gc:GracePeriod"] = "00:00:00", ["Blob:Gc:Interval"] = "1.00:00:00" });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Blobs_list_in_hash_order_once_each_with_totals_on_the_first_page_only()
    {
        var blobs = await PutManyAsync(Alice, 250, seed: 0);
        var pages = await ListAllAsync(Alice, pageSize: 100);

        Assert.Equal(new[] { 100, 100, 50 }, pages.Select(p => p.Blobs.Count));
        var hashes = pages.SelectMany(p => p.Blobs).Select(b => b.Digest.Hash).ToList();
        Assert.Equal(blobs.Select(b => b.Hash).Order(StringComparer.Ordinal), hashes);
        Assert.Equal(250, pages[0].TotalCount);
        Assert.Equal(blobs.Sum(b => b.SizeBytes), pages[0].TotalSizeBytes);
        Assert.All(pages.Skip(1), p => Assert.Equal((0L, 0L), (p.TotalCount, p.TotalSizeBytes)));
        Assert.Equal("", pages[^1].NextPageToken);

        var info = pages[0].Blobs[0];
        Assert.Equal("alice", info.Owner);
        Assert.Equal(blobs.Single(b => b.Hash == info.Digest.Hash).SizeBytes, info.Digest.SizeBytes);
        Assert.Equal("application/octet-stream", info.MediaType);
    }

    [Fact]
    public async Task Page_size_0_means_100_and_above_1000_is_served_as_1000()
    {
        await PutManyAsync(Alice, 1001, seed: 10_000);
        Assert.Equal(100, (await Alice.ListBlobsAsync(pageSize: 0)).Blobs.Count);
        var big = await Alice.ListBlobsAsync(pageSize: 5000);
        Assert.Equal(1000, big.Blobs.Count);
        Assert.Equal(1001, big.TotalCount);
        var rest = await Alice.ListBlobsAsync(pageSize: 5000, pageToken: big.NextPageToken);
        Assert.Single(rest.Blobs);
        Assert.Equal("", rest.NextPageToken);
    }

    [Fact]
    public async Task Another_owners_blobs_are_never_listed_nor_counted()
    {
        var shared = TestData.Random(300, seed: 7);
        await Alice.PutAsync(shared);
        await Bob.PutAsync(shared);
        var alices = await PutManyAsync(Alice, 3, seed: 100);
        var bobs = await PutManyAsync(Bob, 5, seed: 200);

        var alice = Assert.Single(await ListAllAsync(Alice, pageSize: 100));
        Assert.Equal(4, alice.TotalCount);
        Assert.Equal(300 + alices.Sum(b => b.SizeBytes), alice.TotalSizeBytes);
        Assert.Equal(alices.Select(b => b.Hash).Append(BlobClient.D(shared).Hash).Order(StringComparer.Ordinal), alice.Blobs.Select(b => b.Digest.Hash));
        Assert.All(alice.Blobs, b => Assert.Equal("alice", b.Owner));

        var bob = Assert.Single(await ListAllAsync(Bob, pageSize: 100));
        Assert.Equal(6, bob.TotalCount);
        Assert.Equal(300 + bobs.Sum(b => b.SizeBytes), bob.TotalSizeBytes);
        Assert.DoesNotContain(bob.Blobs, b => alices.Any(a => a.Hash == b.Digest.Hash));

        Assert.Empty((await new BlobClient(_host.Channel, "carol").ListBlobsAsync()).Blobs);
    }

    [Fact]
    public async Task Sensitive_blobs_are_listed_with_their_encryption()
    {
        var secret = TestData.Png(4, 3, seed: 5);
        await Alice.PutAsync(secret, sensitive: true);
        var info = Assert.Single((await Alice.ListBlobsAsync()).Blobs);
        Assert.Equal(BlobClient.D(secret), info.Digest);
        Assert.True(info.Encrypted);
        Assert.Equal("k1", info.KeyId);
        Assert.Equal(("image/png", 4, 3), (info.MediaType, info.Width, info.Height));
        Assert.True(info.StoredSizeBytes > secret.Length);
        Assert.Equal(secret.Length, (await Alice.ListBlobsAsync()).TotalSizeBytes);
        Assert.Empty((await Bob.ListBlobsAsync()).Blobs);
    }

    [Fact]
    public async Task Paging_stays_exact_while_blobs_are_added_and_removed()
    {
        var blobs = await PutManyAsync(Alice, 30, seed: 300);
        var byHash = blobs.OrderBy(b => b.Hash, StringComparer.Ordinal).ToList();
        await ReferenceAsync(Alice, byHash, "keep");
        var first = await Alice.ListBlobsAsync(pageSize: 10);
        var seen = first.Blobs.Select(b => b.Digest.Hash).ToList();

        // Remove two blobs already listed and two not listed yet; add new ones on both sides of the cursor.
        var removed = new[] { byHash[2], byHash[5], byHash[15], byHash[25] };
        await Alice.RemoveReferencesAsync(new RemoveReferencesRequest { References = { removed.Select(d => new V1.Reference { TraceId = "keep", EventId = d.Hash, Digest = d }) } });
        await Task.Delay(5);
        Assert.Equal(4, await _host.Service<BlobStore>().CollectGarbageAsync(CancellationToken.None));
        var added = await PutManyAsync(Alice, 10, seed: 400);

        var token = first.NextPageToken;
        while (token != "")
        {
            var page = await Alice.ListBlobsAsync(pageSize: 10, pageToken: token);
            Assert.Equal((0L, 0L), (page.TotalCount, page.TotalSizeBytes));
            seen.AddRange(page.Blobs.Select(b => b.Digest.Hash));
            token = page.NextPageToken;
        }

        Assert.Equal(seen.Order(StringComparer.Ordinal), seen);
        Assert.Equal(seen.Count, seen.Distinct().Count());
        var throughout = byHash.Except(removed).Select(d => d.Hash);
        Assert.Empty(throughout.Except(seen));
        Assert.DoesNotContain(byHash[15].Hash, seen);
        Assert.DoesNotContain(byHash[25].Hash, seen);
        var cursor = first.Blobs[^1].Digest.Hash;
        Assert.Equal(added.Where(d => string.CompareOrdinal(d.Hash, cursor) > 0).Select(d => d.Hash).Order(StringComparer.Ordinal),
            seen.Intersect(added.Select(d => d.Hash)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Negative_page_size_is_invalid_argument_naming_page_size()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => Alice.ListBlobsAsync(pageSize: -1));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("page_size", error.Status.Detail);
    }

    public static TheoryData<string> NotATokenOfThisCall => new()
    {
        "garbage!!",
        Convert.ToBase64String("[\"blobs\"]"u8.ToArray()),
        Convert.ToBase64String("{\"after\":\"x\"}"u8.ToArray()),
        Convert.ToBase64String("[\"blobs\",\"0000000000000000\",\"not-a-hash\"]"u8.ToArray()),
        // Alice's own owner tag (the first 8 bytes of sha256 of the owner) with a position that is no hash.
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"[\"blobs\",\"{Convert.ToHexStringLower(SHA256.HashData("alice"u8)[..8])}\",\"not-a-hash\"]")),
    };

    [Theory]
    [MemberData(nameof(NotATokenOfThisCall))]
    public async Task Malformed_page_token_is_invalid_argument_naming_page_token(string token) =>
        await AssertBadTokenAsync(() => Alice.ListBlobsAsync(pageToken: token));

    [Fact]
    public async Task Another_owners_or_another_lists_page_token_is_invalid_argument()
    {
        await PutManyAsync(Alice, 3, seed: 500);
        await PutManyAsync(Bob, 3, seed: 600);
        var alicesToken = (await Alice.ListBlobsAsync(pageSize: 1)).NextPageToken;
        Assert.NotEqual("", alicesToken);
        Assert.Single((await Alice.ListBlobsAsync(pageSize: 1, pageToken: alicesToken)).Blobs);
        await AssertBadTokenAsync(() => Bob.ListBlobsAsync(pageSize: 1, pageToken: alicesToken));

        await ReferenceAsync(Alice, await PutManyAsync(Alice, 2, seed: 700), "t");
        var referencesToken = (await Alice.ListReferencesAsync(new ListReferencesRequest { PageSize = 1 })).NextPageToken;
        Assert.NotEqual("", referencesToken);
        await AssertBadTokenAsync(() => Alice.ListBlobsAsync(pageToken: referencesToken));
        await AssertBadTokenAsync(() => Alice.ListReferencesAsync(new ListReferencesRequest { PageToken = alicesToken }));
        await AssertBadTokenAsync(() => Bob.ListReferencesAsync(new ListReferencesRequest { PageToken = referencesToken }));
        await AssertBadTokenAsync(() => Alice.ListReferencesAsync(new ListReferencesRequest { TraceId = "other", PageToken = referencesToken }));
    }

    [Fact]
    public async Task References_without_a_filter_page_through_all_the_callers_and_none_of_another_owners()
    {
        var blobs = await PutManyAsync(Alice, 2, seed: 800);
        var expected = new List<(string, string, string)>();
        var add = new AddReferencesRequest();
        foreach (var trace in new[] { "run-b", "run-a", "run-c" })
        {
            for (var e = 0; e < 40; e++)
            {
                foreach (var digest in blobs)
                {
                    add.References.Add(new V1.Reference { TraceId = trace, EventId = $"e{e:D2}", Digest = digest });
                    expected.Add((trace, $"e{e:D2}", digest.Hash));
                }
            }
        }

        Assert.Equal(240, (await Alice.AddReferencesAsync(add)).Added);
        var bobs = await PutManyAsync(Bob, 1, seed: 900);
        await ReferenceAsync(Bob, bobs, "run-a");

        var seen = new List<(string, string, string)>();
        var token = "";
        var pages = 0;
        do
        {
            var page = await Alice.ListReferencesAsync(new ListReferencesRequest { PageSize = 50, PageToken = token });
            seen.AddRange(page.References.Select(r => (r.TraceId, r.EventId, r.Digest.Hash)));
            token = page.NextPageToken;
            pages++;
        }
        while (token != "");

        Assert.Equal(5, pages);
        Assert.Equal(expected.OrderBy(r => r.Item1, StringComparer.Ordinal).ThenBy(r => r.Item2, StringComparer.Ordinal).ThenBy(r => r.Item3, StringComparer.Ordinal), seen);
        var bob = await Bob.ListReferencesAsync(new ListReferencesRequest());
        Assert.Equal(bobs[0].Hash, Assert.Single(bob.References).Digest.Hash);

        // The digest filter pages on its own index: same order, only that digest.
        var byDigest = new List<(string, string, string)>();
        token = "";
        do
        {
            var page = await Alice.ListReferencesAsync(new ListReferencesRequest { DigestHash = blobs[1].Hash, PageSize = 7, PageToken = token });
            byDigest.AddRange(page.References.Select(r => (r.TraceId, r.EventId, r.Digest.Hash)));
            token = page.NextPageToken;
        }
        while (token != "");

        Assert.Equal(seen.Where(r => r.Item3 == blobs[1].Hash), byDigest);
    }

    private static async Task AssertBadTokenAsync(Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("page_token", error.Status.Detail);
    }

    /// <summary>Stores <paramref name="count"/> distinct small blobs in as few BatchUploads as the limit allows.</summary>
    private static async Task<List<V1.Digest>> PutManyAsync(BlobClient client, int count, int seed)
    {
        var digests = new List<V1.Digest>();
        foreach (var chunk in Enumerable.Range(seed, count).Chunk(BlobLimits.BatchItems))
        {
            var request = new BatchUploadRequest();
            foreach (var i in chunk)
            {
                var data = TestData.Random(64 + (i % 50), seed: i);
                request.Items.Add(new BatchUploadRequest.Types.Item { Digest = BlobClient.D(data), Data = ByteString.CopyFrom(data) });
                digests.Add(BlobClient.D(data));
            }

            Assert.All((await client.BatchUploadAsync(request)).Results, r => Assert.Equal(0, r.Status.Code));
        }

        return digests;
    }

    private static async Task ReferenceAsync(BlobClient client, IEnumerable<V1.Digest> digests, string traceId)
    {
        var add = new AddReferencesRequest();
        add.References.Add(digests.Select(d => new V1.Reference { TraceId = traceId, EventId = d.Hash, Digest = d }));
        await client.AddReferencesAsync(add);
    }

    private static async Task<List<ListBlobsResponse>> ListAllAsync(BlobClient client, int pageSize)
    {
        var pages = new List<ListBlobsResponse>();
        var token = "";
        do
        {
            var page = await client.ListBlobsAsync(pageSize, token);
            Assert.True(page.Blobs.Count <= pageSize);
            pages.Add(page);
            token = page.NextPageToken;
        }
        while (token != "");

        return pages;
    }
}
