using System.Collections.Concurrent;
using Grpc.Core;
using Microservices.Blob.Digests;
using Microservices.Blob.Domain;
using Microservices.Blob.Index;
using Microservices.Blob.Storage;
using Microservices.Blob.Tests.Support;
using Microservices.Blob.V1;
using Microservices.TestSupport;

namespace Microservices.Blob.Tests.Service;

/// <summary>
/// Two real blob hosts on one s3rver bucket and one PostgreSQL index, as two replicas of one
/// Deployment: concurrent uploads (the same content through both at once), unreferences and
/// collection rounds on both, then everything that must exist reads back byte-exact from either.
/// The clock is shared and moved only between phases, so "in grace" and "expired" are exact.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class TwoReplicaTests(PostgresFixture postgres, S3rverFixture s3) : IClassFixture<S3rverFixture>
{
    private static readonly TimeSpan Grace = TimeSpan.FromHours(1);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Uploads_unreferences_and_collections_on_two_replicas_lose_nothing_and_never_expose_part_of_a_blob(bool sharedRedis)
    {
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var redis = sharedRedis ? await RedisServer.StartAsync() : null;
        var (a, b) = await StartPairAsync(time, redis?.Settings);
        await using var replicaA = a;
        await using var replicaB = b;
        BlobHost[] replicas = [a, b];
        BlobClient Client(int i, string owner) => new(replicas[i % 2].Channel, owner);

        // Phase 1, then the clock moves past the grace period: loose (never referenced) and released
        // (referenced, then not) blobs are collectible; kept ones are referenced.
        int[] loose = [.. Enumerable.Range(1, 120)], kept = [.. Enumerable.Range(201, 20)], released = [.. Enumerable.Range(301, 20)];
        foreach (var seed in loose.Concat(kept).Concat(released))
        {
            await Client(seed, "alice").PutAsync(Content(seed));
        }

        foreach (var seed in kept.Concat(released))
        {
            await Client(seed + 1, "alice").AddReferencesAsync(new AddReferencesRequest { References = { Reference("kept", seed) } });
        }

        foreach (var seed in released)
        {
            await Client(seed, "alice").RemoveReferencesAsync(new RemoveReferencesRequest { References = { Reference("kept", seed) } });
        }

        time.Advance(2 * Grace);

        // Phase 2, all at once: new content through both replicas (alice through both at the same time,
        // bob's sensitive copies too), loose content revived while it is being collected, kept blobs
        // unreferenced (now in grace), collection rounds on both replicas, readers on both.
        int[] fresh = [.. Enumerable.Range(401, 40)], revived = [.. loose.Take(60).Reverse()], unreferenced = [.. kept.Skip(10)];
        var stop = new CancellationTokenSource();
        var reads = new ConcurrentBag<string>();
        var collectedObjects = 0;
        var readable = new ConcurrentDictionary<int, byte>(kept.ToDictionary(s => s, _ => (byte)0));

        async Task UploadFreshAsync()
        {
            foreach (var batch in fresh.Chunk(4))
            {
                await Task.WhenAll(batch.Select(async seed =>
                {
                    await Task.WhenAll(Client(0, "alice").PutAsync(Content(seed)), Client(1, "alice").PutAsync(Content(seed)), Client(seed, "bob").PutAsync(Content(seed), sensitive: seed % 2 == 1));
                    await Client(seed + 1, "alice").AddReferencesAsync(new AddReferencesRequest { References = { Reference("fresh", seed) } });
                    readable[seed] = 0;
                }));
            }
        }

        // Four lanes, against the collector's order of deletion: puts of bytes meet their deletion.
        Task ReviveAsync() => Task.WhenAll(revived.Chunk(15).Select(lane => Task.Run(() => ReviveLaneAsync(lane))));

        async Task ReviveLaneAsync(int[] lane)
        {
            foreach (var seed in lane)
            {
                // What a client does: upload before referencing; if the blob was collected in between, upload again.
                for (var attempt = 0; ; attempt++)
                {
                    Assert.True(attempt < 20, $"revived blob {seed} never took its reference");
                    await Client(seed + attempt, "alice").PutAsync(Content(seed));
                    try
                    {
                        await Client(seed + attempt + 1, "alice").AddReferencesAsync(new AddReferencesRequest { References = { Reference("revived", seed) } });
                        break;
                    }
                    catch (RpcException error) when (error.StatusCode == StatusCode.NotFound)
                    {
                    }
                }
            }
        }

        async Task UnreferenceAsync()
        {
            foreach (var seed in unreferenced)
            {
                await Client(seed, "alice").RemoveReferencesAsync(new RemoveReferencesRequest { References = { Reference("kept", seed) } });
            }
        }

        async Task CollectAsync()
        {
            do
            {
                var deleted = await Task.WhenAll(replicas.Select(r => r.Service<BlobStore>().CollectGarbageAsync(CancellationToken.None)));
                Interlocked.Add(ref collectedObjects, deleted.Sum());
            }
            while (!stop.IsCancellationRequested);
        }

        async Task ReadAsync()
        {
            var turn = 0;
            do
            {
                turn++;
                // Blobs that must be readable (referenced, or in grace) must read exactly; loose ones may be gone,
                // but whatever any read returns in full is the whole blob.
                foreach (var seed in readable.Keys.Take(8).Append(loose[60 + turn % 60]))
                {
                    var data = Content(seed);
                    try
                    {
                        var read = await Client(turn + seed, "alice").DownloadAsync(BlobClient.D(data));
                        if (!read.AsSpan().SequenceEqual(data))
                        {
                            reads.Add($"blob {seed}: {read.Length} bytes read of {data.Length}, not its content");
                        }
                    }
                    catch (RpcException error) when (!readable.ContainsKey(seed) && error.StatusCode is StatusCode.NotFound or StatusCode.DataLoss)
                    {
                        // Collected before or while it was read: refused, never half-served.
                    }
                    catch (RpcException error)
                    {
                        reads.Add($"blob {seed}: {error.Status}");
                    }
                }
            }
            while (!stop.IsCancellationRequested);
        }

        var background = new[] { Task.Run(CollectAsync), Task.Run(ReadAsync) };
        try
        {
            await Task.WhenAll(Task.Run(UploadFreshAsync), Task.Run(ReviveAsync), Task.Run(UnreferenceAsync));
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(background);
        }

        Assert.Empty(reads);
        // Rounds on both replicas once more, with nothing else running: still only the expired go.
        foreach (var replica in replicas)
        {
            collectedObjects += await replica.Service<BlobStore>().CollectGarbageAsync(CancellationToken.None);
        }

        // Everything that must exist, from either replica, byte-exact under its digest.
        var mustExist = kept.Concat(revived).Select(s => ("alice", s)).Concat(fresh.SelectMany(s => new[] { ("alice", s), ("bob", s) })).ToList();
        foreach (var replica in Enumerable.Range(0, 2))
        {
            foreach (var (owner, seed) in mustExist)
            {
                var data = Content(seed);
                var info = await Client(replica, owner).StatAsync(BlobClient.D(data));
                Assert.Equal((BlobClient.D(data).Hash, (long)data.Length), (info.Digest.Hash, info.Digest.SizeBytes));
                Assert.Equal(data, await Client(replica, owner).DownloadAsync(BlobClient.D(data)));
            }

            // And what had expired went: from the index and from either replica's view.
            foreach (var seed in loose.Skip(60).Concat(released))
            {
                var missing = await Client(replica, "alice").FindMissingAsync(Content(seed));
                Assert.Single(missing.MissingDigests);
            }
        }

        Assert.True(collectedObjects >= 80, $"the expired objects (at least 80) were collected, not {collectedObjects}");
        // No row without its bytes: every object the index still has is in the bucket.
        var index = a.Service<IBlobIndex>();
        var storage = b.Service<IBlobStorage>();
        foreach (var owner in new[] { "alice", "bob" })
        {
            string? token = null;
            do
            {
                var page = await index.ListBlobsAsync(owner, 100, token, false, CancellationToken.None);
                foreach (var blob in page.Blobs)
                {
                    Assert.True(await storage.ExistsAsync(blob.Object.Key, CancellationToken.None), $"{owner}'s blob {blob.Digest.Hash} has no bytes at {blob.Object.Key}");
                }

                token = page.NextPageToken;
            }
            while (token is not null);
        }
    }

    [Fact]
    public async Task Blobctl_put_cut_off_mid_upload_and_reconnected_to_the_other_replica_begins_anew_there_and_completes()
    {
        var (a, b) = await StartPairAsync(new ManualTimeProvider(DateTimeOffset.UtcNow));
        await using var replicaA = a;
        await using var replicaB = b;
        using var files = new TempDirectory();
        var data = TestData.Random(9 * 1024 * 1024, seed: 90);
        var file = files.File("big.bin");
        await File.WriteAllBytesAsync(file, data);
        var token = files.File("alice.token");
        await File.WriteAllTextAsync(token, TestTokens.For("alice"));

        // The first connection reaches A and is reset after 3 MiB of the upload; the reconnect reaches
        // B, which does not keep A's parts (FAILED_PRECONDITION), so blobctl begins the upload anew on B.
        await using var balancer = TcpRelay.Start([a.Port, b.Port], cutFirstAfterBytes: 3 * 1024 * 1024);
        var put = await Blobctl.SucceedsAsync(balancer.Port, token, "put", file);

        Assert.Contains($"{TestData.Sha256Hex(data)} {data.Length}", put);
        Assert.True(balancer.Connections >= 2, $"the upload was never cut off ({balancer.Connections} connection)");
        foreach (var replica in new[] { a, b })
        {
            Assert.Equal(data, await new BlobClient(replica.Channel, "alice").DownloadAsync(BlobClient.D(data)));
        }
    }

    [Fact]
    public async Task A_put_on_one_replica_and_a_collection_on_the_other_wait_for_the_same_object_lock()
    {
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        var (a, b) = await StartPairAsync(time);
        await using var replicaA = a;
        await using var replicaB = b;
        var data = Content(7);
        await new BlobClient(a.Channel, "alice").PutAsync(data);
        time.Advance(2 * Grace); // alice's blob has expired: its object is the collector's to delete

        // A third holder of the index takes the object's lock, so both replicas must queue behind it.
        await using var third = new PostgresBlobIndex(Settings["Blob:Index:ConnectionString"]!);
        var held = await third.Locks.AcquireAsync(StorageKey.Shared(BlobDigest.Of(data)), CancellationToken.None);
        var collection = b.Service<BlobStore>().CollectGarbageAsync(CancellationToken.None);
        await Eventually.HoldsAsync(async () => await WaitingAdvisoryLocksAsync() == 1, "replica B's collection waits for the object's lock");
        var put = new BlobClient(a.Channel, "bob").PutAsync(data);
        await Eventually.HoldsAsync(async () => await WaitingAdvisoryLocksAsync() == 2, "replica A's put of the same bytes waits for it too");
        Assert.False(collection.IsCompleted || put.IsCompleted);

        await held.DisposeAsync();
        await Task.WhenAll(collection, put);
        // Whichever went first, bob's blob is whole on both replicas (collected-then-stored again, or kept).
        Assert.Equal(data, await new BlobClient(a.Channel, "bob").DownloadAsync(BlobClient.D(data)));
        Assert.Equal(data, await new BlobClient(b.Channel, "bob").DownloadAsync(BlobClient.D(data)));
        Assert.Single((await new BlobClient(b.Channel, "alice").FindMissingAsync(data)).MissingDigests);
    }

    [Fact]
    public async Task A_resumed_upload_that_reaches_the_other_replica_is_refused_clearly_and_still_finishes_where_it_started()
    {
        var (a, b) = await StartPairAsync(new ManualTimeProvider(DateTimeOffset.UtcNow));
        await using var replicaA = a;
        await using var replicaB = b;
        var onA = new BlobClient(a.Channel, "alice");
        var onB = new BlobClient(b.Channel, "alice");
        var data = TestData.Random(600_000, seed: 90);
        var id = (await onA.StartUploadAsync(BlobClient.D(data))).UploadId;
        Assert.Equal(300_000, (await onA.UploadAsync(id, data, 0, 300_000)).CommittedSize);

        var query = await Assert.ThrowsAsync<RpcException>(() => onB.QueryUploadAsync(id));
        Assert.Equal(StatusCode.FailedPrecondition, query.StatusCode);
        Assert.Contains("instance that started it", query.Status.Detail);
        var write = await Assert.ThrowsAsync<RpcException>(() => onB.UploadAsync(id, data, 300_000, data.Length, finish: true));
        Assert.Equal(StatusCode.FailedPrecondition, write.StatusCode);
        Assert.Single((await onB.FindMissingAsync(data)).MissingDigests);

        Assert.True((await onA.UploadAsync(id, data, 300_000, data.Length, finish: true)).Complete);
        Assert.Equal(data, await onB.DownloadAsync(BlobClient.D(data)));
    }

    /// <summary>The settings of the last pair started (both replicas have the same).</summary>
    private Dictionary<string, string?> Settings { get; set; } = [];

    private async Task<long> WaitingAdvisoryLocksAsync()
    {
        await using var connection = new Npgsql.NpgsqlConnection(Settings["Blob:Index:ConnectionString"]);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<(BlobHost A, BlobHost B)> StartPairAsync(ManualTimeProvider time, Dictionary<string, string?>? extra = null)
    {
        var index = await postgres.CreateDatabaseAsync();
        var prefix = $"pair{Guid.NewGuid():N}/";
        var settings = Settings = new Dictionary<string, string?>
        {
            ["Blob:Index:Kind"] = "postgres",
            ["Blob:Index:ConnectionString"] = index,
            ["Blob:Storage:Kind"] = "s3",
            ["Blob:Storage:S3:ServiceUrl"] = s3.Server.ServiceUrl,
            ["Blob:Storage:S3:Bucket"] = S3rverFixture.Bucket,
            ["Blob:Storage:S3:Prefix"] = prefix,
            ["Blob:Storage:S3:AccessKey"] = S3Server.AccessKey,
            ["Blob:Storage:S3:SecretKey"] = S3Server.SecretKey,
            ["Blob:Storage:S3:Compatibility"] = "true",
            ["Blob:Gc:GracePeriod"] = Grace.ToString(),
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        var first = await BlobHost.StartAsync(settings, time);
        try
        {
            return (first, await BlobHost.StartAsync(settings, time));
        }
        catch
        {
            await first.DisposeAsync();
            throw;
        }
    }

    /// <summary>A blob's content by seed, 1 to 9 KB: many small objects make many put-vs-delete meetings.</summary>
    private static byte[] Content(int seed) => TestData.Random(1000 + seed * 97 % 8_000, seed);

    private static V1.Reference Reference(string trace, int seed) => new() { TraceId = trace, EventId = $"e{seed}", Digest = BlobClient.D(Content(seed)) };
}
