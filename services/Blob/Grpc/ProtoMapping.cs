using Google.Protobuf;
using Grpc.Core;
using Google.Protobuf.WellKnownTypes;
using Microservices.Blob.Digests;
using Microservices.Blob.Domain;
using Microservices.Blob.Index;
using Microservices.Blob.V1;

namespace Microservices.Blob.Grpc;

/// <summary>Proto messages to domain values and back; the only place that knows both.</summary>
internal static class ProtoMapping
{
    public static BlobDigest ToDomain(this V1.Digest? digest, string field) =>
        digest is null ? throw BlobException.Invalid($"{field} is required") : Validation.Digest(digest.Hash, digest.SizeBytes, field);

    public static V1.Digest ToProto(this BlobDigest digest) => new() { Hash = digest.Hash, SizeBytes = digest.Size };

    public static BlobInfo ToProto(this BlobRecord blob)
    {
        var info = new BlobInfo
        {
            Digest = blob.Digest.ToProto(),
            MediaType = blob.Object.MediaType,
            Width = blob.Object.Width,
            Height = blob.Object.Height,
            CreatedAt = Timestamp.FromDateTimeOffset(blob.CreatedAt),
            Owner = blob.Owner,
            Compression = blob.Object.Compression == StoredCompression.Brotli ? Compression.Brotli : Compression.None,
            Encrypted = blob.Object.Encrypted,
            KeyId = blob.Object.KeyId ?? "",
            StoredSizeBytes = blob.Object.StoredSize,
            ReferenceCount = blob.ReferenceCount,
        };
        foreach (var (key, value) in blob.Labels)
        {
            info.Labels[key] = value;
        }
        return info;
    }

    /// <summary>Totals stay 0 on pages that do not carry them (every page but the first).</summary>
    public static ListBlobsResponse ToProto(this BlobPage page)
    {
        var response = new ListBlobsResponse
        {
            NextPageToken = page.NextPageToken ?? "",
            TotalCount = page.Totals?.Count ?? 0,
            TotalSizeBytes = page.Totals?.SizeBytes ?? 0,
        };
        response.Blobs.Add(page.Blobs.Select(b => b.ToProto()));
        return response;
    }

    public static V1.Reference ToProto(this BlobReferenceRecord reference) => new()
    {
        TraceId = reference.TraceId,
        EventId = reference.EventId,
        Digest = reference.Digest.ToProto(),
        CreatedAt = Timestamp.FromDateTimeOffset(reference.CreatedAt),
    };

    public static List<(string TraceId, string EventId, BlobDigest Digest)> ToDomain(this IEnumerable<V1.Reference> references) =>
        references.Select((r, i) => (
            Validation.Id(r.TraceId, $"references[{i}].trace_id"),
            Validation.Id(r.EventId, $"references[{i}].event_id"),
            r.Digest.ToDomain($"references[{i}].digest"))).ToList();

    public static ItemStatus Ok() => new() { Code = (int)StatusCode.OK };

    public static ItemStatus ToItemStatus(this BlobException error) => new() { Code = (int)error.Kind.ToStatusCode(), Message = error.Message };

    public static StatusCode ToStatusCode(this BlobErrorKind kind) => kind switch
    {
        BlobErrorKind.InvalidArgument => StatusCode.InvalidArgument,
        BlobErrorKind.NotFound => StatusCode.NotFound,
        BlobErrorKind.FailedPrecondition => StatusCode.FailedPrecondition,
        BlobErrorKind.ResourceExhausted => StatusCode.ResourceExhausted,
        BlobErrorKind.Unauthenticated => StatusCode.Unauthenticated,
        BlobErrorKind.DataLoss => StatusCode.DataLoss,
        _ => StatusCode.Internal,
    };

    public static ByteString Bytes(ReadOnlySpan<byte> data) => ByteString.CopyFrom(data);
}
