using Microservices.Blob.Digests;
using Microservices.Blob.Traces;

namespace Microservices.Blob.Domain.Traces;

/// <summary>Server-side offload: payloads go straight into the store, references into the index.</summary>
internal sealed class StoreTraceSink(BlobStore store, string owner, string traceId, bool sensitive) : ITraceBlobSink
{
    private static readonly IReadOnlyDictionary<string, string> NoLabels = new Dictionary<string, string>();

    public async ValueTask<long> StoreAsync(BlobDigest digest, Stream content, int ordinal, CancellationToken cancellationToken)
    {
        var missing = await store.FindMissingAsync(owner, [digest], cancellationToken).ConfigureAwait(false);
        long stored = 0;
        if (missing.Count > 0)
        {
            stored = (await store.PutAsync(owner, digest, content, sensitive, NoLabels, cancellationToken).ConfigureAwait(false)).StoredBytes;
        }

        await store.AddReferencesAsync(owner, [(traceId, $"image-{ordinal}", digest)], cancellationToken).ConfigureAwait(false);
        return stored;
    }
}

/// <summary>Server-side hydrate: payloads come from the caller's blobs only.</summary>
internal sealed class StoreTraceSource(BlobStore store, string owner) : ITraceBlobSource
{
    public async ValueTask<Stream> OpenAsync(BlobDigest digest, CancellationToken cancellationToken)
    {
        try
        {
            return (await store.OpenReadAsync(owner, digest, cancellationToken).ConfigureAwait(false)).Content;
        }
        catch (BlobException error) when (error.Kind == BlobErrorKind.NotFound)
        {
            throw new MissingTraceBlobException(digest, -1);
        }
    }
}
