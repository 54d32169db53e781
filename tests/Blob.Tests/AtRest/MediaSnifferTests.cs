using System.Text;
using Microservices.Blob.AtRest;
using Microservices.Blob.Tests.Support;

namespace Microservices.Blob.Tests.AtRest;

public sealed class MediaSnifferTests
{
    [Fact]
    public void Png_type_and_size_from_ihdr()
    {
        var media = MediaSniffer.Sniff(TestData.Png(37, 21));
        Assert.Equal(new MediaInfo("image/png", 37, 21), media);
    }

    [Fact]
    public void Jpeg_type_and_size_from_sof()
    {
        Assert.Equal(new MediaInfo("image/jpeg", 640, 480), MediaSniffer.Sniff(TestData.Jpeg(640, 480, 1000)));
    }

    [Fact]
    public void Gif_type_and_size()
    {
        byte[] gif = [.. "GIF89a"u8, 0x2C, 0x01, 0x90, 0x00, 0, 0, 0];
        Assert.Equal(new MediaInfo("image/gif", 300, 144), MediaSniffer.Sniff(gif));
    }

    [Fact]
    public void WebP_lossy_lossless_and_extended_sizes()
    {
        var lossy = new byte[30];
        "RIFF"u8.CopyTo(lossy);
        "WEBPVP8 "u8.CopyTo(lossy.AsSpan(8));
        lossy[23] = 0x9D; lossy[24] = 0x01; lossy[25] = 0x2A;
        lossy[26] = 0x20; lossy[27] = 0x03; // 800
        lossy[28] = 0x58; lossy[29] = 0x02; // 600
        Assert.Equal(new MediaInfo("image/webp", 800, 600), MediaSniffer.Sniff(lossy));

        var lossless = new byte[30];
        "RIFF"u8.CopyTo(lossless);
        "WEBPVP8L"u8.CopyTo(lossless.AsSpan(8));
        lossless[20] = 0x2F;
        var bits = (uint)(99 | (49 << 14)); // width-1, height-1
        BitConverter.TryWriteBytes(lossless.AsSpan(21), bits);
        Assert.Equal(new MediaInfo("image/webp", 100, 50), MediaSniffer.Sniff(lossless));

        var extended = new byte[30];
        "RIFF"u8.CopyTo(extended);
        "WEBPVP8X"u8.CopyTo(extended.AsSpan(8));
        extended[24] = 0x3F; extended[25] = 0x01; // 320-1 = 0x13F
        extended[27] = 0xEF; // 240-1 = 0xEF
        Assert.Equal(new MediaInfo("image/webp", 320, 240), MediaSniffer.Sniff(extended));
    }

    [Theory]
    [InlineData("{\"a\": 1}", "application/json")]
    [InlineData("  [1,2]", "application/json")]
    [InlineData("<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml")]
    [InlineData("<?xml version='1.0'?><svg/>", "image/svg+xml")]
    [InlineData("# trace\nhello", "text/plain")]
    public void Text_kinds(string text, string expected)
    {
        Assert.Equal(expected, MediaSniffer.Sniff(Encoding.UTF8.GetBytes(text)).MediaType);
    }

    [Fact]
    public void Binary_noise_is_octet_stream()
    {
        var noise = TestData.Random(4096);
        noise[10] = 0;
        Assert.Equal("application/octet-stream", MediaSniffer.Sniff(noise).MediaType);
    }
}
