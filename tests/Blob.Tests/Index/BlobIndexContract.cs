using Microservices.Blob.Digests;
using Microservices.Blob.Index;
using Microservices.Blob.Tests.Support;

namespace Microservices.Blob.Tests.Index;

/// <summary>
/// What every <see cref="IBlobIndex"/> backend must do, run against each (one derived class per
/// backend): the domain relies on exactly these semantics, and clients on these page tokens.
/// </summary>
public abstract class BlobIndexContract : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
    private IBlobIndex _index = null!;

    /// <summary>A fresh, empty index (not yet initialised).</summary>
    internal abstract Task<IBlobIndex> CreateAsync();

    public async Task InitializeAsync()
    {
        _index = await CreateAsync();
        await _index.InitializeAsync(CancellationToken.None);
        await _index.InitializeAsync(CancellationToken.None); // a restart finds its schema and keeps it
    }

    public virtual async Task DisposeAsync()
    {
        if (_index is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_blob_is_its_object_and_the_first_uploads_settings_win()
    {
        var digest = Digest(1);
        var stored = Object(digest, "shared/a", keyId: null);
        await _index.AddBlobAsync("alice", stored, sensitive: false, new Dictionary<string, string> { ["k"] = "first" }, quotaBytes: 0, T0, default);
        await _index.AddBlobAsync("alice", stored with { MediaType = "text/plain" }, sensitive: true, new Dictionary<string, string> { ["k"] = "second" }, quotaBytes: 0, T0.AddSeconds(1), default);

        var blob = Assert.IsType<BlobRecord>(await _index.GetBlobAsync("alice", digest.Hash, default));
        Assert.Equal(stored, blob.Object);
        Assert.False(blob.Sensitive);
        Assert.Equal("first", blob.Labels["k"]);
        Assert.Equal(T0, blob.CreatedAt);
        Assert.Equal(0, blob.ReferenceCount);
        Assert.Null(await _index.GetBlobAsync("bob", digest.Hash, default));

        var encrypted = Object(Digest(2), "owners/x/b", keyId: "k1");
        await _index.AddBlobAsync("alice", encrypted, sensitive: true, new Dictionary<string, string>(), quotaBytes: 0, T0, default);
        Assert.Equal(encrypted, await _index.GetObjectAsync("owners/x/b", default));
        Assert.Null(await _index.GetObjectAsync("shared/none", default));

        Assert.Equal(digest.Size + Digest(2).Size, await _index.UsageAsync("alice", default));
        Assert.Equal(0, await _index.UsageAsync("bob", default));
        var owned = await _index.OwnedAsync("alice", [digest.Hash, Digest(3).Hash], default);
        Assert.Equal(new Dictionary<string, long> { [digest.Hash] = digest.Size }, owned);
        Assert.Empty(await _index.OwnedAsync("alice", [], default));
    }

    [Fact]
    public async Task References_count_once_and_list_in_byte_order_through_every_filter_and_page()
    {
        var (a, b) = (Digest(1), Digest(2));
        await AddAsync("alice", a);
        await AddAsync("alice", b);
        await AddAsync("bob", a);
        // Byte order puts "B" before "a" and "Z" before "é"; a locale's order would not.
        string[] traces = ["a", "B", "Z", "é"];
        var references = traces.SelectMany(t => new[] { (t, "e2", a), (t, "e1", b), (t, "e1", a) }).ToList();
        Assert.Equal(references.Count, await _index.AddReferencesAsync("alice", references, T0, default));
        Assert.Equal(0, await _index.AddReferencesAsync("alice", references.Take(3).ToList(), T0, default));
        Assert.Equal(1, await _index.AddReferencesAsync("bob", [("bobs", "e", a)], T0, default));
        Assert.Equal(8, (await _index.GetBlobAsync("alice", a.Hash, default))!.ReferenceCount);

        var expected = references.Select(r => (r.Item1, r.Item2, r.Item3.Hash))
            .OrderBy(r => r.Item1, StringComparer.Ordinal).ThenBy(r => r.Item2, StringComparer.Ordinal).ThenBy(r => r.Hash, StringComparer.Ordinal).ToList();
        Assert.Equal(expected, await ListAllAsync("alice", null, null, pageSize: 5));
        Assert.Equal(expected.Where(r => r.Item1 == "B").ToList(), await ListAllAsync("alice", "B", null, pageSize: 1));
        Assert.Equal(expected.Where(r => r.Hash == a.Hash).ToList(), await ListAllAsync("alice", null, a.Hash, pageSize: 3));
        Assert.Equal(expected.Where(r => r.Item1 == "é" && r.Hash == a.Hash).ToList(), await ListAllAsync("alice", "é", a.Hash, pageSize: 1));
        Assert.Equal([("bobs", "e", a.Hash)], await ListAllAsync("bob", null, null, pageSize: 10));

        var token = (await _index.ListReferencesAsync("alice", null, null, 1, null, default)).NextPageToken;
        await Assert.ThrowsAsync<FormatException>(() => _index.ListReferencesAsync("bob", null, null, 1, token, default));
        await Assert.ThrowsAsync<FormatException>(() => _index.ListReferencesAsync("alice", "Z", null, 1, token, default));
        await Assert.ThrowsAsync<FormatException>(() => _index.ListBlobsAsync("alice", 1, token, false, default));
    }

    [Fact]
    public async Task A_reference_to_a_blob_that_is_gone_adds_nothing_of_its_batch()
    {
        var (kept, gone) = (Digest(1), Digest(2));
        await AddAsync("alice", kept);
        await AddAsync("alice", gone);
        var (collected, _) = await _index.CollectAsync(T0.AddHours(1), default);
        Assert.Equal(2, collected.Count);
        await AddAsync("alice", kept, T0.AddHours(2));

        var error = await Assert.ThrowsAsync<KeyNotFoundException>(() => _index.AddReferencesAsync("alice", [("t", "e", kept), ("t", "e", gone)], T0.AddHours(2), default));
        Assert.Contains(gone.Hash, error.Message);
        Assert.Equal(0, (await _index.GetBlobAsync("alice", kept.Hash, default))!.ReferenceCount);
        Assert.Empty((await _index.ListReferencesAsync("alice", null, null, 10, null, default)).References);
    }

    [Fact]
    public async Task Blobs_page_in_hash_order_with_totals_from_the_same_read()
    {
        var digests = Enumerable.Range(1, 7).Select(Digest).ToList();
        foreach (var digest in digests)
        {
            await AddAsync("alice", digest);
        }

        await AddAsync("bob", digests[0]);
        var hashes = new List<string>();
        string? token = null;
        var first = true;
        do
        {
            var page = await _index.ListBlobsAsync("alice", 3, token, withTotals: first, default);
            Assert.Equal(first ? new BlobTotals(7, digests.Sum(d => d.Size)) : null, page.Totals);
            hashes.AddRange(page.Blobs.Select(b => b.Digest.Hash));
            Assert.All(page.Blobs, b => Assert.Equal("alice", b.Owner));
            token = page.NextPageToken;
            first = false;
        }
        while (token is not null);

        Assert.Equal(digests.Select(d => d.Hash).Order(StringComparer.Ordinal), hashes);
        var second = (await _index.ListBlobsAsync("alice", 3, null, false, default)).NextPageToken;
        await Assert.ThrowsAsync<FormatException>(() => _index.ListBlobsAsync("bob", 3, second, false, default));
        await Assert.ThrowsAsync<FormatException>(() => _index.ListBlobsAsync("alice", 3, "not a token", false, default));
        Assert.Equal(new BlobTotals(0, 0), (await _index.ListBlobsAsync("carol", 3, null, true, default)).Totals);
    }

    [Fact]
    public async Task Collection_takes_blobs_unreferenced_before_the_cutoff_and_orphans_only_objects_no_blob_uses()
    {
        var (loose, kept, released, shared, late) = (Digest(1), Digest(2), Digest(3), Digest(4), Digest(5));
        await AddAsync("alice", loose, T0);
        await AddAsync("alice", kept, T0);
        await AddAsync("alice", released, T0);
        await AddAsync("alice", shared, T0);
        await AddAsync("bob", shared, T0.AddHours(2)); // bob's copy is new: inside the grace period
        await AddAsync("alice", late, T0.AddHours(2));
        await _index.AddReferencesAsync("alice", [("t", "e", kept), ("t", "e", released)], T0, default);
        Assert.Equal(1, await _index.RemoveReferencesAsync("alice", [("t", "e", released), ("t", "gone", released)], T0.AddHours(2), default));

        var (collected, orphans) = await _index.CollectAsync(T0.AddHours(1), default);
        Assert.Equal(new[] { ("alice", loose.Hash), ("alice", shared.Hash) }.Order(), collected.Order());
        Assert.Equal(["shared/" + loose.Hash], orphans);
        Assert.Null(await _index.GetBlobAsync("alice", loose.Hash, default));
        Assert.NotNull(await _index.GetBlobAsync("bob", shared.Hash, default));
        Assert.False(await _index.DeleteObjectIfUnusedAsync("shared/" + shared.Hash, default));
        Assert.True(await _index.DeleteObjectIfUnusedAsync("shared/" + loose.Hash, default));
        Assert.False(await _index.DeleteObjectIfUnusedAsync("shared/" + loose.Hash, default));
        Assert.Null(await _index.GetObjectAsync("shared/" + loose.Hash, default));

        // A reference that arrives before the round keeps its blob however old its row is.
        await _index.AddReferencesAsync("alice", [("t2", "e", released)], T0.AddHours(3), default);
        (collected, orphans) = await _index.CollectAsync(T0.AddHours(10), default);
        Assert.Equal(new[] { ("alice", late.Hash), ("bob", shared.Hash) }.Order(), collected.Order());
        Assert.Equal(new[] { "shared/" + late.Hash, "shared/" + shared.Hash }.Order(StringComparer.Ordinal), orphans.Order(StringComparer.Ordinal));
        Assert.NotNull(await _index.GetBlobAsync("alice", kept.Hash, default));
        Assert.NotNull(await _index.GetBlobAsync("alice", released.Hash, default));
    }

    [Fact]
    public async Task Uploads_are_the_owners_and_expire_by_creation_time()
    {
        var labels = new Dictionary<string, string> { ["a"] = "b" };
        var first = new UploadRecord("u1", "alice", Digest(1), true, labels, T0);
        await _index.AddUploadAsync(first, default);
        await _index.AddUploadAsync(new UploadRecord("u2", "alice", Digest(2), false, new Dictionary<string, string>(), T0.AddHours(1)), default);
        await _index.AddUploadAsync(new UploadRecord("u3", "bob", Digest(3), false, new Dictionary<string, string>(), T0.AddHours(2)), default);

        var read = Assert.IsType<UploadRecord>(await _index.GetUploadAsync("alice", "u1", default));
        Assert.Equal((first.UploadId, first.Owner, first.Digest, first.Sensitive, first.CreatedAt), (read.UploadId, read.Owner, read.Digest, read.Sensitive, read.CreatedAt));
        Assert.Equal(labels, read.Labels);
        Assert.Null(await _index.GetUploadAsync("bob", "u1", default));
        Assert.Equal(["u1", "u2"], (await _index.UploadIdsAsync("alice", default)).Order(StringComparer.Ordinal));
        Assert.Equal(["u1", "u2"], (await _index.UploadsCreatedBeforeAsync(T0.AddHours(2), default)).Order(StringComparer.Ordinal));

        await _index.DeleteUploadAsync("u1", default);
        Assert.Null(await _index.GetUploadAsync("alice", "u1", default));
        Assert.Equal(["u2"], await _index.UploadIdsAsync("alice", default));
    }

    [Fact]
    public async Task One_collection_round_at_a_time()
    {
        var round = await _index.Locks.TryAcquireCollectorAsync(default);
        Assert.NotNull(round);
        Assert.Null(await _index.Locks.TryAcquireCollectorAsync(default));
        await round.DisposeAsync();
        var next = await _index.Locks.TryAcquireCollectorAsync(default);
        Assert.NotNull(next);
        await next.DisposeAsync();
    }

    [Fact]
    public async Task A_new_blob_over_the_quota_is_not_recorded_and_its_object_is_left_for_collection()
    {
        var held = Digest(1);
        Assert.Null(await AddAsync("alice", held, quotaBytes: 250));
        var over = Digest(60); // 101 + 160 > 250
        Assert.Equal(held.Size, await AddAsync("alice", over, quotaBytes: 250));

        Assert.Null(await _index.GetBlobAsync("alice", over.Hash, default));
        Assert.Equal(held.Size, await _index.UsageAsync("alice", default));
        Assert.NotNull(await _index.GetObjectAsync("shared/" + over.Hash, default));
        var (_, orphans) = await _index.CollectAsync(T0, default);
        Assert.Equal(["shared/" + over.Hash], orphans);

        // What the owner already holds is recorded again whatever the quota; other owners have their own.
        Assert.Null(await AddAsync("alice", held, quotaBytes: 1));
        Assert.Null(await AddAsync("bob", over, quotaBytes: 250));
    }

    [Fact]
    public async Task Concurrent_puts_of_one_owner_never_pass_the_quota_together()
    {
        // Sixteen blobs of 101..116 bytes racing for room for about five.
        const long Quota = 560;
        var digests = Enumerable.Range(1, 16).Select(Digest).ToList();
        using var start = new SemaphoreSlim(0);
        var puts = digests.Select(d => Task.Run(async () =>
        {
            await start.WaitAsync();
            return await AddAsync("alice", d, quotaBytes: Quota);
        })).ToList();
        start.Release(puts.Count);
        var results = await Task.WhenAll(puts);

        var usage = await _index.UsageAsync("alice", default);
        var recorded = digests.Where((_, i) => results[i] is null).ToList();
        Assert.Equal(recorded.Sum(d => d.Size), usage);
        Assert.InRange(usage, 1, Quota);
        // Usage only grew, so a blob refused at any moment does not fit at the end either.
        Assert.All(digests.Except(recorded), d => Assert.True(usage + d.Size > Quota, $"{d.Size} bytes were refused with {usage} of {Quota} held"));
    }

    internal IBlobIndex Index => _index;

    internal static BlobDigest Digest(int seed) => BlobDigest.Of(TestData.Random(100 + seed, seed));

    private static StoredObject Object(BlobDigest digest, string key, string? keyId) =>
        new(key, digest, digest.Size + 7, "image/png", 3, 4, StoredCompression.Brotli, keyId, T0);

    private Task<long?> AddAsync(string owner, BlobDigest digest, DateTimeOffset? at = null, long quotaBytes = 0) =>
        _index.AddBlobAsync(owner, Object(digest, "shared/" + digest.Hash, null), false, new Dictionary<string, string>(), quotaBytes, at ?? T0, default);

    private async Task<List<(string, string, string Hash)>> ListAllAsync(string owner, string? traceId, string? hash, int pageSize)
    {
        var all = new List<(string, string, string)>();
        string? token = null;
        do
        {
            var page = await _index.ListReferencesAsync(owner, traceId, hash, pageSize, token, default);
            Assert.True(page.References.Count <= pageSize);
            all.AddRange(page.References.Select(r => (r.TraceId, r.EventId, r.Digest.Hash)));
            token = page.NextPageToken;
        }
        while (token is not null);

        return all;
    }
}
