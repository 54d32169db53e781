using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microservices.Blob.Digests;
using Microservices.Blob.Traces;

namespace Microservices.Fuzz.Tests.Blob;

/// <summary>An in-memory sink and source: what offload stores is what hydrate reads; the digest is checked against the bytes.</summary>
internal sealed class TraceBlobs : ITraceBlobSink, ITraceBlobSource
{
    private readonly ConcurrentDictionary<BlobDigest, byte[]> _blobs = new();

    public int Count => _blobs.Count;

    public async ValueTask<long> StoreAsync(BlobDigest digest, Stream content, int ordinal, CancellationToken cancellationToken)
    {
        using var copy = new MemoryStream();
        await content.CopyToAsync(copy, cancellationToken);
        var bytes = copy.ToArray();
        Assert.Equal(digest, new BlobDigest(Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes.Length));
        return _blobs.TryAdd(digest, bytes) ? bytes.Length : 0;
    }

    public ValueTask<Stream> OpenAsync(BlobDigest digest, CancellationToken cancellationToken) =>
        _blobs.TryGetValue(digest, out var bytes)
            ? ValueTask.FromResult<Stream>(new MemoryStream(bytes, writable: false))
            : throw new MissingTraceBlobException(digest, -1);
}
