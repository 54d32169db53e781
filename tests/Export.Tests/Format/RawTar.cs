using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace Microservices.Export.Tests.Format;

/// <summary>Hostile archives: tar built by hand or by TarWriter, gzipped, with nothing checking what goes in.</summary>
internal static class RawTar
{
    public const int Block = 512;

    public static readonly byte[] EndMarker = new byte[2 * Block];

    /// <summary>A ustar header with a correct checksum, claiming whatever size it is told.</summary>
    public static byte[] Header(string name, char type, long size)
    {
        var header = new byte[Block];
        Encoding.ASCII.GetBytes(name).CopyTo(header, 0);
        Encoding.ASCII.GetBytes("0000644\0").CopyTo(header, 100);
        Encoding.ASCII.GetBytes("0000000\0").CopyTo(header, 108);
        Encoding.ASCII.GetBytes("0000000\0").CopyTo(header, 116);
        Encoding.ASCII.GetBytes(Convert.ToString(size, 8).PadLeft(11, '0') + "\0").CopyTo(header, 124);
        Encoding.ASCII.GetBytes("00000000000\0").CopyTo(header, 136);
        header[156] = (byte)type;
        Encoding.ASCII.GetBytes("ustar\0" + "00").CopyTo(header, 257);
        "        "u8.CopyTo(header.AsSpan(148));
        var sum = header.Sum(b => b);
        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(header, 148);
        return header;
    }

    /// <summary>A header and its data, padded to whole blocks.</summary>
    public static byte[] Entry(string name, char type, byte[] data) =>
        [.. Header(name, type, data.Length), .. data, .. new byte[(Block - (data.Length % Block)) % Block]];

    /// <summary>A PAX record: "length key=value\n", the length counting itself.</summary>
    public static byte[] PaxRecord(string key, string value)
    {
        var body = $" {key}={value}\n";
        var length = body.Length + 1;
        while ((length.ToString(System.Globalization.CultureInfo.InvariantCulture) + body).Length != length)
        {
            length++;
        }

        return Encoding.UTF8.GetBytes(length.ToString(System.Globalization.CultureInfo.InvariantCulture) + body);
    }

    public static byte[] Gzip(byte[] data, CompressionLevel level = CompressionLevel.Fastest)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, level, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return compressed.ToArray();
    }

    public static byte[] Gunzip(byte[] archive)
    {
        using var gzip = new GZipStream(new MemoryStream(archive), CompressionMode.Decompress);
        using var tar = new MemoryStream();
        gzip.CopyTo(tar);
        return tar.ToArray();
    }

    /// <summary>A gzipped PAX tar of whatever entries <paramref name="write"/> writes.</summary>
    public static byte[] WithTarWriter(Action<TarWriter> write)
    {
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            write(writer);
        }

        return Gzip(tar.ToArray());
    }

    public static PaxTarEntry File(string name, byte[] data) => new(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) };
}
