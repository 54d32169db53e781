using Microservices.Blob.Digests;

namespace Microservices.Blob.Traces;

/// <summary>Where offload puts payloads: the service's store, or the network client of it.</summary>
internal interface ITraceBlobSink
{
    /// <summary>
    /// Makes sure the caller has this blob (storing <paramref name="content"/> only if it does not
    /// yet) and records the reference (trace, "image-<paramref name="ordinal"/>").
    /// </summary>
    /// <returns>How many bytes had to be stored: 0 when the blob was already there.</returns>
    ValueTask<long> StoreAsync(BlobDigest digest, Stream content, int ordinal, CancellationToken cancellationToken);
}

/// <summary>Where hydrate reads payloads from.</summary>
internal interface ITraceBlobSource
{
    /// <summary>The blob's original bytes; throws if the caller does not have it.</summary>
    ValueTask<Stream> OpenAsync(BlobDigest digest, CancellationToken cancellationToken);
}

/// <summary>A data: URI payload that is not canonical base64, in strict mode.</summary>
internal sealed class InvalidTracePayloadException(long offset, string reason)
    : Exception($"data: URI payload at byte offset {offset} is not canonical base64: {reason}")
{
    public long Offset { get; } = offset;
}

/// <summary>A data: URI payload over the configured limit, in strict mode.</summary>
internal sealed class OversizedTracePayloadException(long offset, string limitName, long limit)
    : Exception($"data: URI payload at byte offset {offset} is over {limitName} ({limit} bytes decoded)")
{
    public long Offset { get; } = offset;
}

/// <summary>A reference in a trace whose blob cannot be read.</summary>
internal sealed class MissingTraceBlobException(BlobDigest digest, long offset)
    : Exception(offset < 0
        ? $"trace references blob sha256:{digest.Hash} (size {digest.Size}), which is not available"
        : $"trace references blob sha256:{digest.Hash} (size {digest.Size}) at byte offset {offset}, which is not available")
{
    public BlobDigest Digest { get; } = digest;

    public long Offset { get; } = offset;
}

internal sealed record OffloadOptions(string Gateway, bool Strict = false, int MemoryThreshold = 4 * 1024 * 1024)
{
    /// <summary>
    /// Decoded bytes past which a payload is not offloaded (it stays inline, or strict fails). The
    /// service sets it from Blob:Limits; the CLI leaves it open, the server it uploads to decides.
    /// </summary>
    public long MaxPayloadBytes { get; init; } = long.MaxValue;

    /// <summary>The setting <see cref="MaxPayloadBytes"/> comes from, for the strict error.</summary>
    public string PayloadLimitName { get; init; } = "Blob:Limits:MaxDataUriBytes";

    /// <summary>The gateway read capability each reference carries (its query part), or none.</summary>
    public Func<BlobDigest, string>? Capability { get; init; }
}

internal sealed record OffloadSummary(long InputBytes, long OutputBytes, int DataUris, int Offloaded, int Stored, long StoredBytes, int LeftInline);

internal sealed record HydrateSummary(long InputBytes, long OutputBytes, int References, int Missing = 0);
