using System.IO.Compression;

namespace Microservices.Grpc.Protocol;

/// <summary>Message compression by grpc-encoding name, with the BCL's gzip and zlib ("deflate").</summary>
internal static class MessageCompression
{
    public const string Identity = "identity";
    public const string Gzip = "gzip";
    public const string Deflate = "deflate";

    /// <summary>What we accept, advertised in grpc-accept-encoding.</summary>
    public const string AcceptEncodingValue = "identity,gzip,deflate";

    public static bool IsSupported(string encoding) =>
        encoding is Identity or Gzip or Deflate;

    public static byte[] Compress(string encoding, ReadOnlySpan<byte> data, CompressionLevel level)
    {
        using var output = new MemoryStream(data.Length / 2 + 64);
        using (var stream = Create(encoding, output, level))
        {
            stream.Write(data);
        }

        return output.ToArray();
    }

    /// <summary>Decompresses, refusing output beyond maxSize so a small bomb cannot exhaust memory.</summary>
    public static byte[] Decompress(string encoding, byte[] data, int maxSize)
    {
        using var input = new MemoryStream(data);
        using Stream stream = encoding switch
        {
            Gzip => new GZipStream(input, CompressionMode.Decompress),
            Deflate => new ZLibStream(input, CompressionMode.Decompress),
            _ => throw new InvalidOperationException($"Unsupported grpc-encoding '{encoding}'."),
        };
        using var output = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            if (output.Length + read > maxSize)
            {
                throw new RpcException(StatusCode.ResourceExhausted,
                    $"Decompressed message exceeds the maximum message size of {maxSize} bytes.");
            }

            output.Write(buffer, 0, read);
        }

        return output.ToArray();
    }

    /// <summary>The first of the peer's accepted encodings that we support, preferring the one asked for.</summary>
    public static bool PeerAccepts(string? acceptEncodingHeader, string encoding)
    {
        if (acceptEncodingHeader is null)
        {
            return false;
        }

        foreach (var part in acceptEncodingHeader.Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.Equals(encoding, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static Stream Create(string encoding, Stream output, CompressionLevel level) => encoding switch
    {
        Gzip => new GZipStream(output, level, leaveOpen: true),
        Deflate => new ZLibStream(output, level, leaveOpen: true),
        _ => throw new InvalidOperationException($"Unsupported grpc-encoding '{encoding}'."),
    };
}
