using Microservices.ExportFormat;

namespace Microservices.Export.Tests.Format;

public sealed class ArchiveLayoutTests
{
    private static readonly string Hash = new string('a', 63) + "f";

    [Theory]
    [InlineData(10, 0)]
    [InlineData(9 * 1024 * 1024, 0)]
    [InlineData(9 * 1024 * 1024, 2)]
    public void ParseData_reads_back_the_blob_and_chunk_Data_named(long size, int chunk)
    {
        var name = ArchiveLayout.Data(Hash, size, chunk);
        Assert.Equal(ArchiveEntryKind.Data, ArchiveLayout.KindOf(name));
        Assert.Equal((Hash, chunk), ArchiveLayout.ParseData(name));
    }

    [Theory]
    [InlineData("models/000001.jsonl")]
    [InlineData("data/xyz")]
    [InlineData("data/aaaa.000001")]
    public void ParseData_refuses_names_that_are_not_data_entries(string name) =>
        Assert.Throws<ArgumentException>(() => ArchiveLayout.ParseData(name));
}
