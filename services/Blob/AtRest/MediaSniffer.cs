using System.Buffers.Binary;
using System.Text.Unicode;

namespace Microservices.Blob.AtRest;

/// <summary>
/// Media type and pixel size from a blob's first bytes (magic numbers and image headers), so
/// Stat never repeats what a client claimed. Needs only a prefix: <see cref="PrefixLength"/>.
/// </summary>
internal static class MediaSniffer
{
    public const int PrefixLength = 64 * 1024;

    // Byte arrays, not u8 literals: "\x89"u8 would be the UTF-8 encoding of U+0089 (two bytes).
    private static readonly byte[] PngMagic = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
    private static readonly byte[] GzipMagic = [0x1F, 0x8B];
    private static readonly byte[] Utf8Bom = [0xEF, 0xBB, 0xBF];

    public static MediaInfo Sniff(ReadOnlySpan<byte> prefix)
    {
        if (prefix.StartsWith(PngMagic))
        {
            // IHDR is the first chunk: width and height big-endian at 16 and 20.
            return prefix.Length >= 24 && prefix.Slice(12, 4).SequenceEqual("IHDR"u8)
                ? new("image/png", ReadInt32BE(prefix[16..]), ReadInt32BE(prefix[20..]))
                : new("image/png", 0, 0);
        }

        if (prefix.StartsWith("GIF87a"u8) || prefix.StartsWith("GIF89a"u8))
        {
            return prefix.Length >= 10
                ? new("image/gif", BinaryPrimitives.ReadUInt16LittleEndian(prefix[6..]), BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..]))
                : new("image/gif", 0, 0);
        }

        if (prefix.Length >= 3 && prefix[0] == 0xFF && prefix[1] == 0xD8 && prefix[2] == 0xFF)
        {
            var (w, h) = JpegSize(prefix);
            return new("image/jpeg", w, h);
        }

        if (prefix.Length >= 12 && prefix.StartsWith("RIFF"u8) && prefix.Slice(8, 4).SequenceEqual("WEBP"u8))
        {
            var (w, h) = WebPSize(prefix);
            return new("image/webp", w, h);
        }

        if (prefix.StartsWith("BM"u8) && prefix.Length >= 26)
        {
            return new("image/bmp", BinaryPrimitives.ReadInt32LittleEndian(prefix[18..]), Math.Abs(BinaryPrimitives.ReadInt32LittleEndian(prefix[22..])));
        }

        if (prefix.StartsWith("II*\0"u8) || prefix.StartsWith("MM\0*"u8))
        {
            return new("image/tiff", 0, 0);
        }

        if (prefix.StartsWith("%PDF-"u8))
        {
            return new("application/pdf", 0, 0);
        }

        if (prefix.StartsWith(GzipMagic))
        {
            return new("application/gzip", 0, 0);
        }

        if (prefix.StartsWith("PK\x03\x04"u8))
        {
            return new("application/zip", 0, 0);
        }

        return SniffText(prefix);
    }

    private static MediaInfo SniffText(ReadOnlySpan<byte> prefix)
    {
        if (prefix.IsEmpty || prefix.Contains((byte)0))
        {
            return MediaInfo.Unknown;
        }

        // A prefix may cut a UTF-8 sequence: allow up to 3 trailing bytes of an incomplete one.
        var text = prefix;
        if (!Utf8.IsValid(text))
        {
            var valid = false;
            for (var cut = 1; cut <= 3 && cut < text.Length && !valid; cut++)
            {
                valid = Utf8.IsValid(text[..^cut]);
            }

            if (!valid)
            {
                return MediaInfo.Unknown;
            }
        }

        var trimmed = text.TrimStart(" \t\r\n"u8).TrimStart(Utf8Bom);
        if (trimmed.StartsWith("<svg"u8) || (trimmed.StartsWith("<?xml"u8) && trimmed.IndexOf("<svg"u8) >= 0))
        {
            return new("image/svg+xml", 0, 0);
        }

        if (trimmed.StartsWith("<?xml"u8))
        {
            return new("application/xml", 0, 0);
        }

        if (trimmed.Length > 0 && (trimmed[0] == (byte)'{' || trimmed[0] == (byte)'['))
        {
            return new("application/json", 0, 0);
        }

        return new("text/plain", 0, 0);
    }

    private static (int Width, int Height) JpegSize(ReadOnlySpan<byte> data)
    {
        var i = 2;
        while (i + 9 < data.Length)
        {
            if (data[i] != 0xFF)
            {
                return (0, 0);
            }

            var marker = data[i + 1];
            if (marker == 0xFF)
            {
                i++;
                continue;
            }

            if (marker is 0xD8 or 0x01 or (>= 0xD0 and <= 0xD7))
            {
                i += 2;
                continue;
            }

            var length = BinaryPrimitives.ReadUInt16BigEndian(data[(i + 2)..]);
            // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
            {
                return (BinaryPrimitives.ReadUInt16BigEndian(data[(i + 7)..]), BinaryPrimitives.ReadUInt16BigEndian(data[(i + 5)..]));
            }

            if (marker == 0xDA || length < 2)
            {
                return (0, 0);
            }

            i += 2 + length;
        }

        return (0, 0);
    }

    private static (int Width, int Height) WebPSize(ReadOnlySpan<byte> data)
    {
        if (data.Length < 30)
        {
            return (0, 0);
        }

        var chunk = data.Slice(12, 4);
        if (chunk.SequenceEqual("VP8 "u8))
        {
            // Key frame: start code 9D 01 2A at 23, then 14-bit width and height.
            return data[23] == 0x9D && data[24] == 0x01 && data[25] == 0x2A
                ? (BinaryPrimitives.ReadUInt16LittleEndian(data[26..]) & 0x3FFF, BinaryPrimitives.ReadUInt16LittleEndian(data[28..]) & 0x3FFF)
                : (0, 0);
        }

        if (chunk.SequenceEqual("VP8L"u8))
        {
            if (data[20] != 0x2F)
            {
                return (0, 0);
            }

            var bits = BinaryPrimitives.ReadUInt32LittleEndian(data[21..]);
            return ((int)(bits & 0x3FFF) + 1, (int)((bits >> 14) & 0x3FFF) + 1);
        }

        if (chunk.SequenceEqual("VP8X"u8))
        {
            return (ReadUInt24LE(data[24..]) + 1, ReadUInt24LE(data[27..]) + 1);
        }

        return (0, 0);
    }

    private static int ReadInt32BE(ReadOnlySpan<byte> data) => (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(data), int.MaxValue);

    private static int ReadUInt24LE(ReadOnlySpan<byte> data) => data[0] | (data[1] << 8) | (data[2] << 16);
}
