using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;

namespace Microservices.Grpc.Protocol;

/// <summary>Metadata to and from HTTP/2 header fields; "-bin" values are base64, padded or not.</summary>
internal static class MetadataCodec
{
    public static Metadata FromHeaders(IHeaderDictionary headers)
    {
        var metadata = new Metadata();
        foreach (var (key, values) in headers)
        {
            if (GrpcHeaders.IsReserved(key))
            {
                continue;
            }

            foreach (var value in values)
            {
                AddDecoded(metadata, key, value ?? "");
            }
        }

        return metadata;
    }

    public static Metadata FromHeaders(HttpHeaders headers)
    {
        var metadata = new Metadata();
        foreach (var (key, values) in headers.NonValidated)
        {
            if (GrpcHeaders.IsReserved(key))
            {
                continue;
            }

            foreach (var value in values)
            {
                AddDecoded(metadata, key, value);
            }
        }

        return metadata;
    }

    public static string EncodeValue(Metadata.Entry entry) =>
        entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes) : entry.Value;

    /// <summary>Decodes base64 with or without padding; gRPC allows senders to omit it.</summary>
    public static byte[] DecodeBinary(string value)
    {
        var trimmed = value.Trim();
        var padding = (4 - (trimmed.Length % 4)) % 4;
        if (padding == 3)
        {
            throw new FormatException("A base64 value cannot have a length of 4n+1.");
        }

        return Convert.FromBase64String(padding == 0 ? trimmed : trimmed + new string('=', padding));
    }

    private static void AddDecoded(Metadata metadata, string key, string value)
    {
        var lower = key.ToLowerInvariant();
        if (Metadata.IsBinaryKey(lower))
        {
            // A binary header may carry several comma-separated values.
            foreach (var part in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                metadata.Add(lower, DecodeBinary(part));
            }
        }
        else if (IsValidKey(lower) && IsPrintableAscii(value))
        {
            metadata.Add(new Metadata.Entry(lower, value));
        }

        // Anything else is not gRPC metadata (an odd proxy header): left out rather than failing the call.
    }

    private static bool IsValidKey(string key)
    {
        foreach (var c in key)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsPrintableAscii(string value)
    {
        foreach (var c in value)
        {
            if (c is < ' ' or > '~')
            {
                return false;
            }
        }

        return true;
    }
}
