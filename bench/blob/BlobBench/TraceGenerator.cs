using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Microservices.BlobBench;

/// <summary>
/// A GenAIScript-style trace: markdown sections per step with prompt and output text, and
/// images as base64 data URIs: real PNG files (screenshots and charts, 320x240 to 1280x800:
/// roughly 0.1-2 MB) and JPEG-shaped photos (50-900 KB) from a pool, many shown several times
/// as runs repeat them.
/// </summary>
internal static class TraceGenerator
{
    public static void Write(string path, int images, int distinct, int seed = 7)
    {
        var random = new Random(seed);
        var pool = Enumerable.Range(0, distinct).Select(i => i % 2 == 0
            ? ("image/png", Png(random.Next(320, 1280), random.Next(240, 800), random))
            : ("image/jpeg", Jpeg(random.Next(50_000, 900_000), random))).ToArray();
        using var output = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
        output.Write("# Trace\n\n## Configuration\n\n```json\n{\"model\": \"openai:gpt-4o\", \"temperature\": 0.2}\n```\n\n");
        for (var i = 0; i < images; i++)
        {
            // Skewed reuse: a few images (logos, charts of the same data) appear again and again.
            var pick = (int)(Math.Pow(random.NextDouble(), 2) * distinct);
            var (media, bytes) = pool[pick];
            output.Write($"## Step {i}\n\n### Prompt\n\n{Lorem(random, 400)}\n\n### Output\n\n{Lorem(random, 900)}\n\n");
            output.Write($"![image {i}](data:{media};base64,");
            output.Write(Convert.ToBase64String(bytes));
            output.Write(")\n\n");
            if (i % 10 == 0)
            {
                output.Write($"```json\n{{\"role\":\"user\",\"content\":[{{\"type\":\"image_url\",\"image_url\":{{\"url\":\"data:{media};base64,{Convert.ToBase64String(bytes)}\"}}}}]}}\n```\n\n");
            }
        }
    }

    private static string Lorem(Random random, int length)
    {
        string[] words = ["the", "model", "returned", "a", "chart", "of", "tokens", "per", "second", "image", "analysis", "shows", "screenshot", "error", "fixed", "test", "passed", "output"];
        var text = new StringBuilder(length + 16);
        while (text.Length < length)
        {
            text.Append(words[random.Next(words.Length)]).Append(' ');
        }

        return text.ToString();
    }

    /// <summary>A real PNG: smooth gradients with noise, deflated, as screenshots and charts are.</summary>
    private static byte[] Png(int width, int height, Random random)
    {
        var raw = new byte[height * (1 + width * 3)];
        for (var y = 0; y < height; y++)
        {
            var row = y * (1 + width * 3);
            raw[row] = 0;
            for (var x = 0; x < width; x++)
            {
                var at = row + 1 + x * 3;
                // Flat UI areas with noisy regions (text, photos), as in a screenshot.
                var noisy = (x / 64 + y / 48) % 3 == 0;
                raw[at] = (byte)(noisy ? random.Next(256) : x / 8);
                raw[at + 1] = (byte)(noisy ? random.Next(256) : y / 8);
                raw[at + 2] = (byte)(noisy ? random.Next(256) : 200);
            }
        }

        using var output = new MemoryStream();
        output.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;
        ihdr[9] = 2;
        Chunk(output, "IHDR", ihdr);
        using (var compressed = new MemoryStream())
        {
            using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            {
                zlib.Write(raw);
            }

            Chunk(output, "IDAT", compressed.ToArray());
        }

        Chunk(output, "IEND", []);
        return output.ToArray();
    }

    /// <summary>JPEG-shaped: SOI, JFIF, SOF0 with a size, entropy-coded-looking noise, EOI.</summary>
    private static byte[] Jpeg(int size, Random random)
    {
        var bytes = new byte[size];
        random.NextBytes(bytes);
        byte[] head = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
            0xFF, 0xC0, 0x00, 0x11, 0x08, 0x02, 0xD0, 0x05, 0x00, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1];
        head.CopyTo(bytes, 0);
        bytes[^2] = 0xFF;
        bytes[^1] = 0xD9;
        return bytes;
    }

    private static void Chunk(Stream output, string type, byte[] data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        output.Write(length);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        output.Write(typeBytes);
        output.Write(data);
        var crc = 0xFFFFFFFFu;
        foreach (var b in typeBytes.Concat(data))
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        var crcBytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crcBytes, ~crc);
        output.Write(crcBytes);
    }
}
