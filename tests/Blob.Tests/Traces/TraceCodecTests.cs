using System.Text;
using Microservices.Blob.Digests;
using Microservices.Blob.Tests.Support;
using Microservices.Blob.Traces;

namespace Microservices.Blob.Tests.Traces;

public sealed class TraceCodecTests
{
    private const string Gateway = "http://127.0.0.1:8081";

    private static async Task<(byte[] Slim, OffloadSummary Summary)> OffloadAsync(MemoryBlobs blobs, byte[] trace, bool strict = false, int readSize = 4096)
    {
        using var output = new MemoryStream();
        var summary = await new TraceOffloader(blobs, new OffloadOptions(Gateway, strict, MemoryThreshold: 64 * 1024))
            .OffloadAsync(new TrickleStream(trace, readSize), output, CancellationToken.None);
        return (output.ToArray(), summary);
    }

    private static async Task<byte[]> HydrateAsync(MemoryBlobs blobs, byte[] slim, int readSize = 4096)
    {
        using var output = new MemoryStream();
        await new TraceHydrator(blobs).HydrateAsync(new TrickleStream(slim, readSize), output, CancellationToken.None);
        return output.ToArray();
    }

    private static string DataUri(string media, byte[] data) => $"data:{media};base64,{Convert.ToBase64String(data)}";

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public async Task Markdown_with_images_round_trips_byte_for_byte(int readSize)
    {
        var png = TestData.Png(20, 10);
        var jpeg = TestData.Jpeg(64, 48, 3000);
        var trace = Encoding.UTF8.GetBytes(
            $"# Run ✓\n![chart]({DataUri("image/png", png)})\ntext data: not a uri, data:image/png;base64 no comma\n" +
            $"<img src=\"{DataUri("image/jpeg", jpeg)}\"/> and again ![]({DataUri("image/png", png)}).\n" +
            $"{{\"image\": \"{DataUri("image/svg+xml;charset=utf-8", Encoding.UTF8.GetBytes("<svg/>"))}\"}}\n");
        var blobs = new MemoryBlobs();
        var (slim, summary) = await OffloadAsync(blobs, trace, readSize: readSize);
        Assert.Equal(4, summary.DataUris);
        Assert.Equal(4, summary.Offloaded);
        Assert.Equal(3, summary.Stored);
        Assert.Equal(3, blobs.Blobs.Count);
        var slimText = Encoding.UTF8.GetString(slim);
        Assert.DoesNotContain(";base64,", slimText);
        Assert.Contains($"{Gateway}/blobs/sha256/{TestData.Sha256Hex(png)}?type=image%2Fpng&size={png.Length}", slimText);
        Assert.Contains("?type=image%2Fsvg%2Bxml%3Bcharset%3Dutf-8&size=6", slimText);
        Assert.Equal(trace, await HydrateAsync(blobs, slim, readSize));
    }

    [Fact]
    public async Task A_data_uri_of_millions_of_characters_on_one_line_streams()
    {
        var big = TestData.Random(3_000_000, seed: 9); // 4 MB of base64 on one line
        var trace = Encoding.ASCII.GetBytes($"{{\"a\":\"{DataUri("image/png", big)}\"}}");
        var blobs = new MemoryBlobs();
        var (slim, summary) = await OffloadAsync(blobs, trace, readSize: 65536);
        Assert.Equal(1, summary.Offloaded);
        Assert.True(slim.Length < 300, $"slim trace is {slim.Length} bytes");
        Assert.Equal(big, blobs.Blobs[TestData.Sha256Hex(big)]);
        Assert.Equal(trace, await HydrateAsync(blobs, slim, 65536));
    }

    [Theory]
    [InlineData("data:image/png;base64,AAA")]            // length not a multiple of 4
    [InlineData("data:image/png;base64,AAB=")]           // non-zero padding bits
    [InlineData("data:image/png;base64,A===")]           // too much padding
    [InlineData("data:image/png;base64,AA==1")]          // a digit after padding
    [InlineData("data:image/png;base64,")]               // empty
    [InlineData("data:image/png;base64,QUJD!QUJD")]      // stops at '!', leaves 'QUJD' valid, then text
    public async Task Invalid_base64_is_left_inline_exactly(string uri)
    {
        var trace = Encoding.ASCII.GetBytes($"before {uri} after");
        var blobs = new MemoryBlobs();
        var (slim, _) = await OffloadAsync(blobs, trace, readSize: 3);
        Assert.Equal(trace, await HydrateAsync(blobs, slim));
        if (!uri.Contains('!'))
        {
            Assert.Equal(trace, slim);
        }
    }

    [Fact]
    public async Task Strict_mode_names_the_offset_of_invalid_base64()
    {
        var trace = Encoding.ASCII.GetBytes("0123456789data:image/png;base64,AAB= tail");
        var error = await Assert.ThrowsAsync<InvalidTracePayloadException>(() => OffloadAsync(new MemoryBlobs(), trace, strict: true));
        Assert.Equal(10, error.Offset);
    }

    [Fact]
    public async Task Hydrate_of_a_missing_blob_names_it()
    {
        var digest = BlobDigest.Of([1, 2, 3]);
        var slim = Encoding.ASCII.GetBytes($"x {Gateway}/blobs/sha256/{digest.Hash}?type=image%2Fpng&size=3 y");
        var error = await Assert.ThrowsAsync<MissingTraceBlobException>(() => HydrateAsync(new MemoryBlobs(), slim));
        Assert.Equal(digest, error.Digest);
        Assert.Equal(2, error.Offset);
    }

    [Fact]
    public async Task Hydrate_can_leave_missing_references_in_place()
    {
        var present = TestData.Png(6, 6, seed: 5);
        var blobs = new MemoryBlobs();
        var (slim, _) = await OffloadAsync(blobs, Encoding.ASCII.GetBytes($"a {DataUri("image/png", present)} b"));
        var missing = BlobDigest.Of([4, 5, 6]);
        var reference = $"{Gateway}/blobs/sha256/{missing.Hash}?type=image%2Fpng&size=3";
        var mixed = slim.Concat(Encoding.ASCII.GetBytes($" {reference} c")).ToArray();
        using var output = new MemoryStream();
        var summary = await new TraceHydrator(blobs, keepMissing: true).HydrateAsync(new MemoryStream(mixed), output, CancellationToken.None);
        Assert.Equal((1, 1), (summary.References, summary.Missing));
        Assert.Equal($"a {DataUri("image/png", present)} b {reference} c", Encoding.ASCII.GetString(output.ToArray()));
    }

    [Fact]
    public async Task Text_without_references_passes_through_hydrate_unchanged()
    {
        var text = Encoding.UTF8.GetBytes("see http://example.com/blobs/sha256/xyz and https://h/blobs/sha256/" + new string('a', 64) + "?type=&size=1 httphttp");
        Assert.Equal(text, await HydrateAsync(new MemoryBlobs(), text, 5));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4096)]
    public async Task Reference_shaped_text_in_the_original_survives_and_offloading_twice_inverts_step_by_step(int readSize)
    {
        var png = TestData.Png(9, 9, seed: 4);
        var hex = TestData.Sha256Hex(png);
        var trace = Encoding.ASCII.GetBytes(
            $"literal {Gateway}/blobs/sha256/{hex}?type=image%2Fpng&size={png.Length} and escaped-looking https://x/blobs/sha256!!/{hex}?type=a&size=1\n" +
            $"glued http://a.com/{DataUri("image/png", png)} and {Gateway}/blobs/sha256/{hex}?type=image%2Fpng&size=12{DataUri("image/png", png)}\n");
        var blobs = new MemoryBlobs();
        var (once, _) = await OffloadAsync(blobs, trace, readSize: readSize);
        var (twice, _) = await OffloadAsync(blobs, once, readSize: readSize);
        Assert.Equal(once, await HydrateAsync(blobs, twice, readSize));
        Assert.Equal(trace, await HydrateAsync(blobs, once, readSize));
    }

    /// <summary>Returns at most readSize bytes per read, to cut tokens across reads.</summary>
    private sealed class TrickleStream(byte[] data, int readSize) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, readSize)], cancellationToken);
    }
}
