namespace Microservices.Blob.Domain;

/// <summary>The documented limits (protos/blob/v1/blob.proto); a batch over one fails whole.</summary>
internal static class BlobLimits
{
    public const int FindMissingDigests = 10_000;
    public const int BatchItems = 1_000;
    public const long BatchTotalBytes = 3 * 1024 * 1024;
    public const int References = 1_000;
    public const int MaxPageSize = 1_000;
    public const int DefaultPageSize = 100;
    public const int DownloadChunk = 1024 * 1024;

    /// <summary>A declared size over Blob:Limits:MaxBlobBytes is refused before anything is allocated or written.</summary>
    public static void CheckBlobSize(long size, long maxBlobBytes, string field)
    {
        if (size > maxBlobBytes)
        {
            throw new BlobException(BlobErrorKind.ResourceExhausted, $"{field}.size_bytes {size} is over Blob:Limits:MaxBlobBytes ({maxBlobBytes})");
        }
    }

    public static void Check(int count, int limit, string field)
    {
        if (count > limit)
        {
            throw BlobException.Invalid($"{field}: at most {limit} per call, got {count}");
        }
    }
}
