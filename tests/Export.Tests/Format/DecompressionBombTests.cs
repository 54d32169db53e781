using System.Diagnostics;
using System.IO.Compression;
using Microservices.ExportFormat;
using static Microservices.Export.Tests.Format.Rejections;

namespace Microservices.Export.Tests.Format;

/// <summary>Alone, so that the process-wide allocation count it asserts is its own.</summary>
[CollectionDefinition(nameof(DecompressionBombTests), DisableParallelization = true)]
public sealed class DecompressionBombCollection;

[Collection(nameof(DecompressionBombTests))]
public sealed class DecompressionBombTests
{
    private const int EntryBytes = 4 * 1024 * 1024;

    /// <summary>1 GiB of well-formed tar (256 entries of 4 MiB of zeros) in about 1 MB of gzip.</summary>
    private static readonly Lazy<byte[]> Bomb = new(() =>
    {
        var zeros = RawTar.Gzip(new byte[EntryBytes], CompressionLevel.SmallestSize);
        using var bomb = new MemoryStream();
        for (var i = 0; i < 256; i++)
        {
            bomb.Write(RawTar.Gzip(RawTar.Header($"data/{i:x64}", '0', EntryBytes)));
            bomb.Write(zeros);
        }

        bomb.Write(RawTar.Gzip(RawTar.EndMarker));
        return bomb.ToArray();
    });

    [Fact]
    public async Task A_gibibyte_of_zeros_is_refused_for_its_ratio_early_and_without_allocating_it()
    {
        var bomb = Bomb.Value;
        Assert.True(bomb.Length < 2 * 1024 * 1024, $"the bomb is {bomb.Length} bytes");
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();

        await using var reader = new ArchiveReader(new MemoryStream(bomb), ArchiveLimits.Default);
        var rejected = await AssertRejectedAsync(ArchiveRejection.CompressionRatio, async () =>
        {
            while (await reader.ReadNextAsync() is { } entry)
            {
                entry.Dispose();
            }
        });

        Assert.True(reader.UncompressedBytes < 64L * 1024 * 1024, $"{reader.UncompressedBytes} bytes were decompressed before the refusal");
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore < 64L * 1024 * 1024, "the refusal allocated 64 MiB or more");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the refusal took {clock.Elapsed}");
        Assert.Contains("decompression bomb", rejected.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_the_ratio_lifted_the_total_cap_still_stops_it()
    {
        var limits = ArchiveLimits.Default with { MaxCompressionRatio = 1e9, MaxTotalBytes = 32L * 1024 * 1024 };

        var rejected = await AssertRejectedAsync(ArchiveRejection.TooLarge, () => ReadAllAsync(Bomb.Value, limits));

        Assert.Contains("MaxTotalBytes", rejected.Message, StringComparison.Ordinal);
    }
}
