using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Microservices.ExportFormat;

namespace Microservices.Export.Tests.Format;

public sealed class ArchivePartWriterTests
{
    [Fact]
    public void Parts_concatenate_into_one_tar_gz_whose_entries_match_what_was_written()
    {
        var random = new Random(7);
        var written = new List<(string Name, byte[] Data)>();
        var parts = new List<byte[]>();
        using var writer = new ArchivePartWriter(DateTimeOffset.UnixEpoch.AddYears(55));
        for (var i = 0; i < 40; i++)
        {
            var data = new byte[random.Next(0, 200_000)];
            if (i % 2 == 0)
            {
                random.NextBytes(data);
            }

            var name = $"data/{i:D4}";
            var entry = writer.WriteEntry(name, data, compress: i % 2 == 1);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(data)), entry.Sha256);
            written.Add((name, data));
            if (writer.PartLength > 300_000)
            {
                using var part = writer.TakePart();
                parts.Add(TestArchive.ToArray(part));
            }
        }

        using (var last = writer.Finish())
        {
            parts.Add(TestArchive.ToArray(last));
        }

        Assert.True(parts.Count > 3);
        using var archive = new MemoryStream(parts.SelectMany(p => p).ToArray());
        using var gzip = new GZipStream(archive, CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        foreach (var (name, data) in written)
        {
            var entry = tar.GetNextEntry();
            Assert.NotNull(entry);
            Assert.Equal(TarEntryType.RegularFile, entry.EntryType);
            Assert.Equal(name, entry.Name);
            using var copy = new MemoryStream();
            entry.DataStream?.CopyTo(copy);
            Assert.Equal(data, copy.ToArray());
        }

        Assert.Null(tar.GetNextEntry());
    }
}
