using System.Text;
using Grpc.Core;
using Microservices.Blob.Tests.Support;
using Microservices.Blob.V1;
using Microservices.TestSupport;

namespace Microservices.Blob.Tests.Security;

/// <summary>
/// Every BlobService RPC against every kind of caller. Alice holds a blob, an open upload and a
/// reference; a refused token is UNAUTHENTICATED everywhere; anyone else (mallory, an admin, who
/// acts as its own subject) sees and changes nothing of hers; alice's own token works; a token
/// delegated with scope blob.read reads but cannot write. The cases are keyed by the service
/// descriptor's method names, so a new RPC without a case fails <see cref="Every_rpc_has_a_case"/>.
/// </summary>
public sealed class AuthorizationMatrixTests : IAsyncLifetime
{
    private readonly TempDirectory _keys = new();
    private BlobHost _host = null!;
    private byte[] _aliceData = null!;
    private string _aliceUpload = null!;

    private BlobClient Alice => new(_host.Channel, "alice");

    private V1.Digest AliceDigest => BlobClient.D(_aliceData);

    public async Task InitializeAsync()
    {
        _host = await BlobHost.StartAsync(TestTokens.SettingsWithDelegation(_keys.Path));
        _aliceData = TestData.Png(20, 10, seed: 900);
        await Alice.PutAsync(_aliceData);
        await Alice.AddReferencesAsync(new AddReferencesRequest { References = { new V1.Reference { TraceId = "t1", EventId = "e1", Digest = AliceDigest } } });
        var pending = TestData.Random(1000, seed: 901);
        _aliceUpload = (await Alice.StartUploadAsync(BlobClient.D(pending))).UploadId;
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _keys.Dispose();
    }

    /// <summary>One RPC: as a caller who is not alice (must see nothing of hers), and as alice (must work).</summary>
    private sealed record Case(bool Writes, Func<AuthorizationMatrixTests, BlobClient, Task> AsSomeoneElse, Func<AuthorizationMatrixTests, BlobClient, Task> AsAlice);

    private static readonly Dictionary<string, Case> Cases = new(StringComparer.Ordinal)
    {
        ["FindMissing"] = new(false,
            async (t, c) => Assert.Single((await c.FindMissingAsync(t._aliceData)).MissingDigests),
            async (t, c) => Assert.Empty((await c.FindMissingAsync(t._aliceData)).MissingDigests)),
        ["BatchUpload"] = new(true,
            async (t, c) =>
            {
                var own = TestData.Random(50, seed: Random.Shared.Next());
                await c.PutAsync(own);
                Assert.Single((await t.Alice.FindMissingAsync(own)).MissingDigests);
            },
            async (_, c) => await c.PutAsync(TestData.Random(50, seed: Random.Shared.Next()))),
        ["BatchRead"] = new(false,
            async (t, c) => Assert.Equal((int)StatusCode.NotFound, (await c.BatchReadAsync(t.AliceDigest)).Results[0].Status.Code),
            async (t, c) => Assert.Equal(t._aliceData, (await c.BatchReadAsync(t.AliceDigest)).Results[0].Data.ToByteArray())),
        ["StartUpload"] = new(true,
            async (t, c) =>
            {
                // No existence oracle: someone else gets a fresh upload, not "already exists".
                var status = await c.StartUploadAsync(t.AliceDigest);
                Assert.False(status.AlreadyExists);
                Assert.NotEmpty(status.UploadId);
            },
            async (t, c) => Assert.True((await c.StartUploadAsync(t.AliceDigest)).AlreadyExists)),
        ["Upload"] = new(true,
            async (t, c) =>
            {
                await Fails(StatusCode.NotFound, () => c.UploadAsync(t._aliceUpload, [1, 2, 3], 0, 3));
                Assert.Equal(0, (await t.Alice.QueryUploadAsync(t._aliceUpload)).CommittedSize);
            },
            async (t, c) => Assert.Equal(3, (await c.UploadAsync(t._aliceUpload, TestData.Random(1000, seed: 901), 0, 3)).CommittedSize)),
        ["QueryUpload"] = new(true,
            async (t, c) => await Fails(StatusCode.NotFound, () => c.QueryUploadAsync(t._aliceUpload)),
            async (t, c) => Assert.Equal(t._aliceUpload, (await c.QueryUploadAsync(t._aliceUpload)).UploadId)),
        ["Download"] = new(false,
            async (t, c) => await Fails(StatusCode.NotFound, () => c.DownloadAsync(t.AliceDigest)),
            async (t, c) => Assert.Equal(t._aliceData, await c.DownloadAsync(t.AliceDigest))),
        ["Stat"] = new(false,
            async (t, c) => await Fails(StatusCode.NotFound, () => c.StatAsync(t.AliceDigest)),
            async (t, c) => Assert.Equal("alice", (await c.StatAsync(t.AliceDigest)).Owner)),
        ["BatchStat"] = new(false,
            async (t, c) => Assert.Equal((int)StatusCode.NotFound, (await c.BatchStatAsync(new BatchStatRequest { Digests = { t.AliceDigest } })).Results[0].Status.Code),
            async (t, c) => Assert.Equal("alice", (await c.BatchStatAsync(new BatchStatRequest { Digests = { t.AliceDigest } })).Results[0].Blob.Owner)),
        ["AddReferences"] = new(true,
            async (t, c) =>
            {
                await Fails(StatusCode.NotFound, () => c.AddReferencesAsync(Reference("t2", t.AliceDigest)));
                Assert.Empty((await t.Alice.ListReferencesAsync(new ListReferencesRequest { TraceId = "t2" })).References);
            },
            async (t, c) => await c.AddReferencesAsync(Reference("t2", t.AliceDigest))),
        ["RemoveReferences"] = new(true,
            async (t, c) =>
            {
                Assert.Equal(0, (await c.RemoveReferencesAsync(new RemoveReferencesRequest { References = { new V1.Reference { TraceId = "t1", EventId = "e1", Digest = t.AliceDigest } } })).Removed);
                Assert.Single((await t.Alice.ListReferencesAsync(new ListReferencesRequest { TraceId = "t1" })).References);
            },
            async (t, c) => Assert.Equal(1, (await c.RemoveReferencesAsync(new RemoveReferencesRequest { References = { new V1.Reference { TraceId = "t1", EventId = "e1", Digest = t.AliceDigest } } })).Removed)),
        ["ListReferences"] = new(false,
            async (t, c) => Assert.Empty((await c.ListReferencesAsync(new ListReferencesRequest { TraceId = "t1" })).References),
            async (t, c) => Assert.Single((await c.ListReferencesAsync(new ListReferencesRequest { TraceId = "t1" })).References)),
        ["ListBlobs"] = new(false,
            async (t, c) => Assert.DoesNotContain((await c.ListBlobsAsync()).Blobs, b => b.Digest.Hash == t.AliceDigest.Hash),
            async (t, c) => Assert.Contains((await c.ListBlobsAsync()).Blobs, b => b.Digest.Hash == t.AliceDigest.Hash)),
        ["OffloadTrace"] = new(true,
            async (t, c) =>
            {
                // The bytes are the proof: someone holding them gets their own copy, alice's references stay hers.
                var (_, summary) = await c.TraceAsync("OffloadTrace", t.Trace(), new TraceChunk.Types.Header { TraceId = "t1" });
                Assert.Equal(1, summary.Offloaded);
                Assert.Single((await t.Alice.ListReferencesAsync(new ListReferencesRequest { TraceId = "t1" })).References);
            },
            async (t, c) => Assert.Equal(1, (await c.TraceAsync("OffloadTrace", t.Trace(), new TraceChunk.Types.Header { TraceId = "t3" })).Summary.Offloaded)),
        ["HydrateTrace"] = new(false,
            async (t, c) =>
            {
                var (output, summary) = await c.TraceAsync("HydrateTrace", t.SlimTrace(), new TraceChunk.Types.Header { KeepMissing = true });
                Assert.Equal(1, summary.Missing);
                Assert.DoesNotContain("base64", Encoding.UTF8.GetString(output), StringComparison.Ordinal);
            },
            async (t, c) => Assert.Equal(t.Trace(), (await c.TraceAsync("HydrateTrace", t.SlimTrace(), new TraceChunk.Types.Header())).Output)),
    };

    public static TheoryData<string, TokenKind> Matrix()
    {
        var data = new TheoryData<string, TokenKind>();
        foreach (var method in BlobService.Descriptor.Methods)
        {
            foreach (var kind in Enum.GetValues<TokenKind>())
            {
                data.Add(method.Name, kind);
            }
        }

        return data;
    }

    public static TheoryData<string> Methods()
    {
        var data = new TheoryData<string>();
        foreach (var method in BlobService.Descriptor.Methods)
        {
            data.Add(method.Name);
        }

        return data;
    }

    [Fact]
    public void Every_rpc_has_a_case() =>
        Assert.Equal(BlobService.Descriptor.Methods.Select(m => m.Name).Order(StringComparer.Ordinal), Cases.Keys.Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Each_rpc_answers_each_kind_of_caller(string method, TokenKind kind)
    {
        var rpc = Assert.Contains(method, Cases);
        var token = TestTokens.Of(kind, "alice");
        var caller = new BlobClient(_host.Channel, () => BlobHost.WithToken(token));
        switch (kind)
        {
            case TokenKind.None or TokenKind.Expired or TokenKind.WrongAudience or TokenKind.WrongIssuer or TokenKind.BadSignature:
                await Fails(StatusCode.Unauthenticated, () => rpc.AsAlice(this, caller));
                break;
            case TokenKind.OtherOwner or TokenKind.Admin:
                await rpc.AsSomeoneElse(this, caller);
                break;
            case TokenKind.RightOwner:
                await rpc.AsAlice(this, caller);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "a kind of caller without a row in the matrix");
        }
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task A_token_delegated_for_blob_read_reads_but_does_not_write(string method)
    {
        var rpc = Assert.Contains(method, Cases);
        var caller = new BlobClient(_host.Channel, () => BlobHost.WithToken(TestTokens.Delegated("alice", "job-1", "blob.read")));
        if (rpc.Writes)
        {
            var error = await Fails(StatusCode.PermissionDenied, () => rpc.AsAlice(this, caller));
            Assert.Contains("blob.write", error.Status.Detail);
        }
        else
        {
            await rpc.AsAlice(this, caller);
        }
    }

    private byte[] Trace() => Encoding.UTF8.GetBytes($"![x](data:image/png;base64,{Convert.ToBase64String(_aliceData)})\n");

    private byte[] SlimTrace() => Encoding.UTF8.GetBytes($"![x](http://127.0.0.1:{_host.GatewayPort}/blobs/sha256/{AliceDigest.Hash}?type=image%2Fpng&size={_aliceData.Length})\n");

    private static AddReferencesRequest Reference(string traceId, V1.Digest digest) =>
        new() { References = { new V1.Reference { TraceId = traceId, EventId = "e", Digest = digest } } };

    private static async Task<RpcException> Fails(StatusCode expected, Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(expected == error.StatusCode, $"expected {expected}, got {error.StatusCode}: {error.Status.Detail}");
        return error;
    }
}
