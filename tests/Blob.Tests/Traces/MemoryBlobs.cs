using System.Collections.Concurrent;
using Microservices.Blob.Digests;
using Microservices.Blob.Traces;

namespace Microservices.Blob.Tests.Traces;

/// <summary>An in-memory blob store for the trace codec tests (the codec knows no transport).</summary>
internal sealed class MemoryBlobs : ITraceBlobSink, ITraceBlobSource
{
    public ConcurrentDictionary<string, byte[]> Blobs { get; } = new();

    public async ValueTask<long> StoreAsync(BlobDigest digest, Stream content, int ordinal, CancellationToken cancellationToken)
    {
        using var copy = new MemoryStream();
        await content.CopyToAsync(copy, cancellationToken);
        Assert.Equal(digest, BlobDigest.Of(copy.ToArray()));
        return Blobs.TryAdd(digest.Hash, copy.ToArray()) ? digest.Size : 0;
    }

    public ValueTask<Stream> OpenAsync(BlobDigest digest, CancellationToken cancellationToken) =>
        Blobs.TryGetValue(digest.Hash, out var data)
            ? ValueTask.FromResult<Stream>(new MemoryStream(data))
            : throw new MissingTraceBlobException(digest, -1);
}
