using System.Buffers;
using System.Globalization;
using System.Text;
using Microservices.Blob.Digests;

namespace Microservices.Blob.Traces;

/// <summary>
/// The reference that replaces a data: URI in a trace:
/// <c>{gateway}/blobs/sha256/{hex}?type={percent-encoded media}&amp;size={bytes}</c>.
/// Self-describing (digest, size, the media part exactly as it was written) and an image URL
/// the blob gateway serves. It ends in the size's digits, and a base64 payload is never followed
/// by a digit once it is offloaded, so the end of a reference is unambiguous.
/// </summary>
internal static class BlobReference
{
    public const string PathMarker = "/blobs/sha256/";

    /// <summary>
    /// The marker without its last '/'. Text of the original trace that is itself shaped like a
    /// reference is escaped by offload with one '!' after this ("/blobs/sha256!/..."); hydrate
    /// removes one '!' from any reference-shaped text that has some. That keeps hydrate the exact
    /// inverse of offload for every input, including an already offloaded trace.
    /// </summary>
    public const string MarkerStem = "/blobs/sha256";

    public const string DefaultGateway = "http://127.0.0.1:8081";

    /// <summary>Longest gateway base accepted when hydrating (scheme included).</summary>
    public const int MaxGatewayLength = 512;

    /// <summary>Longest media part of a data: URI that is offloaded (e.g. "image/png" or "text/plain;charset=utf-8").</summary>
    public const int MaxMediaLength = 200;

    private static readonly SearchValues<byte> Unreserved =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"u8);

    /// <param name="capability">The gateway's read capability (<c>o=…&amp;e=…&amp;c=…</c>) placed before
    /// <c>type</c>, so the size's digits still end the reference; null writes none.</param>
    public static string Format(string gateway, BlobDigest digest, ReadOnlySpan<byte> mediaAscii, string? capability = null) =>
        string.Create(CultureInfo.InvariantCulture, $"{gateway.TrimEnd('/')}{PathMarker}{digest.Hash}?{(capability is null ? "" : capability + "&")}type={Encode(mediaAscii)}&size={digest.Size}");

    /// <summary>Longest capability part hydrate accepts: o= an owner percent-encoded, e= 19 digits, c= a base64url HMAC-SHA256, and the '&amp;'s.</summary>
    public const int MaxCapabilityLength = 3 + (3 * 128) + 4 + 19 + 4 + 43 + 1;

    public static string Encode(ReadOnlySpan<byte> media)
    {
        var text = new StringBuilder(media.Length * 2);
        foreach (var b in media)
        {
            if (Unreserved.Contains(b))
            {
                text.Append((char)b);
            }
            else
            {
                text.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return text.ToString();
    }

    /// <summary>Decodes a percent-encoded media part; null if malformed.</summary>
    public static byte[]? Decode(ReadOnlySpan<byte> encoded)
    {
        var result = new byte[encoded.Length];
        var length = 0;
        for (var i = 0; i < encoded.Length; i++)
        {
            var b = encoded[i];
            if (b == (byte)'%')
            {
                if (i + 2 >= encoded.Length || !IsHex(encoded[i + 1]) || !IsHex(encoded[i + 2]))
                {
                    return null;
                }

                result[length++] = (byte)((HexValue(encoded[i + 1]) << 4) | HexValue(encoded[i + 2]));
                i += 2;
            }
            else if (Unreserved.Contains(b))
            {
                result[length++] = b;
            }
            else
            {
                return null;
            }
        }

        return result[..length];
    }

    public static bool IsTypeChar(byte b) => b == (byte)'%' || Unreserved.Contains(b);

    private static bool IsHex(byte b) => b is >= (byte)'0' and <= (byte)'9' or >= (byte)'A' and <= (byte)'F' or >= (byte)'a' and <= (byte)'f';

    private static int HexValue(byte b) => b <= (byte)'9' ? b - '0' : (b | 0x20) - 'a' + 10;
}
