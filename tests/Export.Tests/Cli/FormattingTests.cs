using Google.Protobuf.WellKnownTypes;
using Microservices.Export.Cli;
using Microservices.Export.V1;

namespace Microservices.Export.Tests.Cli;

public sealed class FormattingTests
{
    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(1023, "1023 B")]
    [InlineData(1024, "1.0 KiB")]
    [InlineData(1536, "1.5 KiB")]
    [InlineData(5L * 1024 * 1024 * 1024, "5.0 GiB")]
    public void Bytes_in_binary_units(long bytes, string expected) => Assert.Equal(expected, Formatting.Bytes(bytes));

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(42, "42s")]
    [InlineData(245, "4m05s")]
    [InlineData(3720, "1h02m")]
    [InlineData(183600, "2d03h")]
    [InlineData(-5, "0s")]
    public void Spans_show_the_two_largest_units(int seconds, string expected) => Assert.Equal(expected, Formatting.Span(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void A_progress_line_says_only_what_is_known()
    {
        Assert.Equal("waiting", Formatting.Describe(null));
        Assert.Equal("waiting", Formatting.Describe(new Progress()));
        Assert.Equal("counting, 12 items", Formatting.Describe(new Progress { Phase = "counting", ItemsDone = 12 }));
        Assert.Equal(
            "blob_data, 120/400 items, 1.5 MiB/8.0 MiB, archive 3.0 MiB in 1 part(s), ETA 1m05s",
            Formatting.Describe(new Progress
            {
                Phase = "blob_data",
                ItemsDone = 120,
                ItemsTotal = 400,
                BytesDone = 3 * 512 * 1024,
                BytesTotal = 8 * 1024 * 1024,
                ArchiveBytes = 3 * 1024 * 1024,
                PartsUploaded = 1,
                EstimatedTimeLeft = Duration.FromTimeSpan(TimeSpan.FromSeconds(65)),
            }));
    }

    [Fact]
    public void Percent_follows_items_when_counted_else_bytes_and_stays_within_0_to_100()
    {
        Assert.Equal(0, Formatting.Percent(null));
        Assert.Equal(0, Formatting.Percent(new Progress { ItemsDone = 5 }));
        Assert.Equal(25, Formatting.Percent(new Progress { ItemsDone = 1, ItemsTotal = 4, BytesDone = 9, BytesTotal = 10 }));
        Assert.Equal(90, Formatting.Percent(new Progress { BytesDone = 9, BytesTotal = 10 }));
        Assert.Equal(100, Formatting.Percent(new Progress { ItemsDone = 7, ItemsTotal = 4 }));
    }

    [Fact]
    public void No_content_flag_means_everything()
    {
        Assert.Equal("everything", Formatting.Contents(new ExportContents()));
        Assert.Equal("models, references", Formatting.Contents(new ExportContents { Models = true, References = true }));
    }
}
