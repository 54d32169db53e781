using Microservices.Blob.Domain;
using Microservices.Blob.Tests.Support;
using Microservices.Blob.V1;
using Grpc.Core;

namespace Microservices.Blob.Tests.Service;

public sealed class GarbageCollectionTests
{
    [Fact]
    public async Task Unreferenced_blobs_go_after_the_grace_period_referenced_ones_never()
    {
        await using var host = await BlobHost.StartAsync(new() { ["Blob:Gc:GracePeriod"] = "00:00:00" });
        var alice = new BlobClient(host.Channel, "alice");
        var loose = TestData.Random(1000, seed: 1);
        var kept = TestData.Random(1000, seed: 2);
        await alice.PutAsync(loose);
        await alice.PutAsync(kept);
        var reference = new V1.Reference { TraceId = "t", EventId = "e", Digest = BlobClient.D(kept) };
        await alice.AddReferencesAsync(new AddReferencesRequest { References = { reference } });
        await Task.Delay(5);

        var store = host.Service<BlobStore>();
        Assert.Equal(1, await store.CollectGarbageAsync(CancellationToken.None));
        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<RpcException>(() => alice.StatAsync(BlobClient.D(loose)))).StatusCode);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(host.DataDirectory, "objects"), TestData.Sha256Hex(loose), SearchOption.AllDirectories));
        Assert.Equal(kept, await alice.DownloadAsync(BlobClient.D(kept)));

        await alice.RemoveReferencesAsync(new RemoveReferencesRequest { References = { reference } });
        await Task.Delay(5);
        Assert.Equal(1, await store.CollectGarbageAsync(CancellationToken.None));
        Assert.Single((await alice.FindMissingAsync(kept)).MissingDigests);
    }

    [Fact]
    public async Task Within_the_grace_period_nothing_is_collected_and_shared_bytes_stay_for_other_owners()
    {
        await using var host = await BlobHost.StartAsync(new() { ["Blob:Gc:GracePeriod"] = "01:00:00" });
        var data = TestData.Random(500, seed: 3);
        await new BlobClient(host.Channel, "alice").PutAsync(data);
        await new BlobClient(host.Channel, "bob").PutAsync(data);
        Assert.Equal(0, await host.Service<BlobStore>().CollectGarbageAsync(CancellationToken.None));
        Assert.Equal(data, await new BlobClient(host.Channel, "bob").DownloadAsync(BlobClient.D(data)));
    }
}
