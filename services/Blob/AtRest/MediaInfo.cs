namespace Microservices.Blob.AtRest;

/// <summary>What the bytes are, sniffed from their first bytes: never taken from the client.</summary>
internal sealed record MediaInfo(string MediaType, int Width, int Height)
{
    public static readonly MediaInfo Unknown = new("application/octet-stream", 0, 0);

    /// <summary>Formats whose own encoding already compresses: storing them compressed again does not pay.</summary>
    public bool IsAlreadyCompressed => MediaType is "image/png" or "image/jpeg" or "image/gif" or "image/webp"
        or "application/gzip" or "application/zip" or "application/zstd" or "video/mp4" or "application/pdf";

    /// <summary>Formats that compress well: text of every kind, uncompressed images.</summary>
    public bool IsCompressible => MediaType.StartsWith("text/", StringComparison.Ordinal)
        || MediaType is "application/json" or "image/svg+xml" or "image/bmp" or "image/tiff" or "application/xml";
}
