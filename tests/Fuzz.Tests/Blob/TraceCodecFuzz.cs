using System.Security.Cryptography;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Microservices.Blob.Traces;

namespace Microservices.Fuzz.Tests.Blob;

/// <summary>
/// Offload and hydrate over traces built from pieces that sit on every branch of the scanners:
/// data: URIs (canonical, truncated, bad base64, over-padded, non-zero pad bits, a digit after the
/// padding, over the size limit), reference-shaped text (escaped or not, long gateways, long media),
/// stray "http"/"data:" and raw bytes, all read at arbitrary chunk boundaries.
/// </summary>
public sealed class TraceCodecFuzz
{
    private const string MediaAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$&^_.+-/;=";
    private const string Base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    private static readonly Gen<string> Media = Gen.Frequency(
        (6, Gen.Elements("image/png", "image/jpeg", "text/plain;charset=utf-8", "application/octet-stream")),
        (2, Gen.Choose(1, 40).SelectMany(n => Gen.ArrayOf(Gen.Elements(MediaAlphabet.ToCharArray()), n)).Select(c => new string(c))),
        (1, Gen.Choose(150, BlobReference.MaxMediaLength + 5).SelectMany(n => Gen.ArrayOf(Gen.Elements('+', '/', '=', '!', 'a'), n)).Select(c => new string(c))));

    private static readonly Gen<string> Gateway = Gen.Frequency(
        (4, Gen.Elements(BlobReference.DefaultGateway, "https://blobs.example", "http://h/", "http://x:1/base/path")),
        (1, Gen.Choose(1, BlobReference.MaxGatewayLength - 8).Select(n => "http://" + new string('g', n))));

    private static readonly Gen<byte[]> PayloadBytes = Gen.Frequency(
        (8, Gen.Choose(0, 300).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), n))),
        (1, Gen.Choose(300, 300_000).Select(n => RandomNumberGenerator.GetBytes(n))));

    /// <summary>A base64 text, then damaged one way or another (or not).</summary>
    private static readonly Gen<string> Payload =
        from bytes in PayloadBytes
        from damage in Gen.Choose(0, 9)
        from at in Gen.Choose(0, 1_000_000)
        from c in Gen.Elements("!", "-", "_", " ", "\n", "=", "==", "===", "5", "A", "%")
        select Damage(Convert.ToBase64String(bytes), damage, at, c);

    private static string Damage(string base64, int damage, int at, string c)
    {
        var i = base64.Length == 0 ? 0 : at % base64.Length;
        return damage switch
        {
            0 => base64[..i],                     // truncated anywhere
            1 => base64.Insert(i, c),             // a stray character
            2 => base64 + c,                      // something right after the payload
            3 => base64.TrimEnd('=') + c,         // padding changed
            4 when base64.EndsWith('=') => base64[..^(base64.EndsWith("==", StringComparison.Ordinal) ? 3 : 2)] + "B" + base64[^(base64.EndsWith("==", StringComparison.Ordinal) ? 2 : 1)..], // non-zero pad bits
            _ => base64,
        };
    }

    private static readonly Gen<string> DataUri =
        from prefix in Gen.Elements("data:", "data:", "DATA:", "data")
        from media in Media
        from marker in Gen.Frequency((8, Gen.Constant(";base64,")), (1, Gen.Elements(";base64", ",", ";BASE64,", ";base64;,")))
        from payload in Payload
        select prefix + media + marker + payload;

    private static readonly Gen<string> ReferenceShaped =
        from gateway in Gateway
        from bangs in Gen.Frequency((2, Gen.Constant(0)), (1, Gen.Choose(1, 3)))
        from hash in Gen.Frequency((4, Gen.Constant(new string('a', 64))), (1, Gen.Elements(new string('A', 64), new string('a', 63), "x")))
        from media in Media
        from size in Gen.Elements("0", "12", "999999999999999999", "9999999999999999999", "", "-1")
        from cut in Gen.Frequency((4, Gen.Constant(int.MaxValue)), (1, Gen.Choose(0, 1200)))
        // Kept within the hydrator's lookahead: longer reference-shaped text is a known gap (README.md).
        select Cut($"{gateway.TrimEnd('/')}/blobs/sha256{new string('!', bangs)}/{hash}?type={BlobReference.Encode(Encoding.ASCII.GetBytes(media))}&size={size}", Math.Min(cut, TraceHydrator.Lookahead - 4));

    private static string Cut(string text, int length) => text.Length <= length ? text : text[..length];

    private static readonly Gen<byte[]> Piece = Gen.Frequency(
        (3, Fuzzing.Bytes(60)),
        // A data: URI ends at a space here. Known gap (tests/Fuzz.Tests/README.md): glued to a payload
        // that stays inline, "http…" reference-shaped text is read as base64 and never escaped.
        (3, DataUri.Select(uri => Encoding.ASCII.GetBytes(uri + " "))),
        (2, ReferenceShaped.Select(Encoding.ASCII.GetBytes)),
        (1, Gen.Elements("http", "https://", "data:", "/blobs/sha256/", "(", "\"", " ", "0").Select(Encoding.ASCII.GetBytes)));

    private static readonly Gen<byte[]> Trace = Gen.ListOf(Piece).Select(pieces => pieces.SelectMany(p => p).ToArray());

    private sealed record Run(byte[] Trace, OffloadOptions Options, int[] OffloadReads, int[] HydrateReads);

    private static Gen<Run> Runs(bool strict) =>
        from trace in Trace
        from gateway in Gateway
        from limit in Gen.Frequency((3, Gen.Constant(long.MaxValue)), (1, Gen.Choose(0, 400).Select(n => (long)n)))
        from threshold in Gen.Elements(4 * 1024 * 1024, 64)
        from offloadReads in Fuzzing.ReadSizes
        from hydrateReads in Fuzzing.ReadSizes
        select new Run(trace, new OffloadOptions(gateway, strict, threshold) { MaxPayloadBytes = limit }, offloadReads, hydrateReads);

    [Fact]
    public void Hydrate_of_offload_gives_every_trace_back_byte_for_byte()
    {
        Fuzzing.CheckAsync(Runs(strict: false), 150, async run =>
        {
            var blobs = new TraceBlobs();
            var offloaded = await OffloadAsync(run, blobs);
            Assert.Equal(Show(run.Trace), Show(await HydrateAsync(offloaded, run.HydrateReads, blobs)));
        });
    }

    [Fact]
    public void Strict_offload_fails_only_with_its_payload_errors_and_otherwise_round_trips()
    {
        Fuzzing.CheckAsync(Runs(strict: true), 150, async run =>
        {
            var blobs = new TraceBlobs();
            byte[] offloaded;
            try
            {
                offloaded = await OffloadAsync(run, blobs);
            }
            catch (Exception e) when (e is InvalidTracePayloadException or OversizedTracePayloadException)
            {
                return;
            }

            Assert.Equal(Show(run.Trace), Show(await HydrateAsync(offloaded, run.HydrateReads, blobs)));
        });
    }

    [Fact]
    public void Hydrate_of_arbitrary_text_fails_only_for_a_missing_blob_and_does_not_depend_on_read_sizes()
    {
        var cases = from trace in Trace from reads in Fuzzing.ReadSizes from keep in Gen.Elements(false, true) select (trace, reads, keep);
        Fuzzing.CheckAsync(cases, 200, async c =>
        {
            var blobs = new TraceBlobs();
            byte[] chunked, whole;
            try
            {
                chunked = await HydrateAsync(c.trace, c.reads, blobs, c.keep);
            }
            catch (MissingTraceBlobException) when (!c.keep)
            {
                await Assert.ThrowsAsync<MissingTraceBlobException>(() => HydrateAsync(c.trace, [int.MaxValue], blobs, c.keep));
                return;
            }

            whole = await HydrateAsync(c.trace, [int.MaxValue], blobs, c.keep);
            Assert.Equal(Show(whole), Show(chunked));
        });
    }

    private static async Task<byte[]> OffloadAsync(Run run, TraceBlobs blobs)
    {
        using var output = new MemoryStream();
        var summary = await new TraceOffloader(blobs, run.Options).OffloadAsync(new ChunkedStream(run.Trace, run.OffloadReads), output, CancellationToken.None);
        Assert.Equal(run.Trace.Length, summary.InputBytes);
        Assert.Equal(output.Length, summary.OutputBytes);
        Assert.Equal(summary.DataUris, summary.Offloaded + summary.LeftInline);
        return output.ToArray();
    }

    private static async Task<byte[]> HydrateAsync(byte[] trace, int[] reads, TraceBlobs blobs, bool keepMissing = false)
    {
        using var output = new MemoryStream();
        var summary = await new TraceHydrator(blobs, keepMissing).HydrateAsync(new ChunkedStream(trace, reads), output, CancellationToken.None);
        Assert.Equal(trace.Length, summary.InputBytes);
        return output.ToArray();
    }

    /// <summary>Latin-1 text of the bytes: byte-exact, and xunit shows where two differ.</summary>
    private static string Show(byte[] bytes) => Encoding.Latin1.GetString(bytes);
}
