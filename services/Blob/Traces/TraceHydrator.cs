using System.Buffers;
using System.Globalization;
using System.Text;
using Microservices.Blob.Digests;

namespace Microservices.Blob.Traces;

/// <summary>
/// The inverse of <see cref="TraceOffloader"/>: every <see cref="BlobReference"/> (any gateway
/// base) becomes the data: URI it came from, streamed from the blob's bytes. Everything else
/// passes through byte for byte.
/// </summary>
internal sealed class TraceHydrator(ITraceBlobSource source, bool keepMissing = false) : TraceCodec
{
    private static readonly byte[] Http = "http"u8.ToArray();
    private static readonly byte[] Stem = Encoding.ASCII.GetBytes(BlobReference.MarkerStem);
    private static readonly SearchValues<byte> UrlDelimiters = SearchValues.Create("\0\t\n\v\f\r \"'()<>[]`\\{}|^"u8);
    /// <summary>
    /// Bytes a reference may span: the longest gateway, the marker, the hash, "?type=" with the longest
    /// media percent-encoded (3 bytes a byte), "&amp;size=" with 19 digits, and room for escape marks.
    /// </summary>
    internal const int Lookahead = BlobReference.MaxGatewayLength + 14 + BlobDigest.HexLength + 6 + BlobReference.MaxCapabilityLength + (3 * BlobReference.MaxMediaLength) + 6 + 19 + 64;

    private int _references;
    private int _missing;

    public async Task<HydrateSummary> HydrateAsync(Stream input, Stream output, CancellationToken cancellationToken)
    {
        var window = new ByteWindow(input);
        while (await window.FillAsync(cancellationToken).ConfigureAwait(false) || window.Available > 0)
        {
            var index = window.Span.IndexOf(Http);
            if (index < 0)
            {
                if (!await PassUnmatchedAsync(output, window, Http.Length, cancellationToken).ConfigureAwait(false))
                {
                    break;
                }

                continue;
            }

            await EmitAsync(output, window, index, cancellationToken).ConfigureAwait(false);
            await window.EnsureAsync(Lookahead, cancellationToken).ConfigureAwait(false);
            if (!TryParse(window.Span, out var length, out var digest, out var media, out var bangAt, out var bangs))
            {
                await EmitAsync(output, window, 1, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (bangs > 0)
            {
                // Escaped text of the original: drop one '!' and keep it as text.
                await EmitAsync(output, window, bangAt, cancellationToken).ConfigureAwait(false);
                window.Advance(1);
                await EmitAsync(output, window, length - bangAt - 1, cancellationToken).ConfigureAwait(false);
                continue;
            }

            var offset = window.Position;
            Stream content;
            try
            {
                content = await source.OpenAsync(digest, cancellationToken).ConfigureAwait(false);
            }
            catch (MissingTraceBlobException) when (keepMissing)
            {
                // Graceful: the reference stays (it still renders, as the gateway's placeholder).
                await EmitAsync(output, window, length, cancellationToken).ConfigureAwait(false);
                _missing++;
                continue;
            }
            catch (MissingTraceBlobException)
            {
                // Sources do not know where the reference stood; say it. Other failures (a wrong
                // key, altered bytes) keep their own error.
                throw new MissingTraceBlobException(digest, offset);
            }

            window.Advance(length);

            await using (content)
            {
                await WriteAsync(output, "data:"u8.ToArray(), cancellationToken).ConfigureAwait(false);
                await WriteAsync(output, media, cancellationToken).ConfigureAwait(false);
                await WriteAsync(output, ";base64,"u8.ToArray(), cancellationToken).ConfigureAwait(false);
                await Base64Streams.EncodeAsync(content, bytes => WriteAsync(output, bytes, cancellationToken), cancellationToken).ConfigureAwait(false);
            }

            _references++;
        }

        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return new HydrateSummary(window.Position, OutputBytes, _references, _missing);
    }

    /// <summary>
    /// Parses a reference (or an escaped one, with '!' after the marker stem) at the start of
    /// <paramref name="span"/>. Offload and hydrate both decide with this one function.
    /// </summary>
    internal static bool TryParse(ReadOnlySpan<byte> span, out int length, out BlobDigest digest, out byte[] media, out int bangAt, out int bangs)
    {
        length = 0;
        digest = default;
        media = [];
        bangAt = 0;
        bangs = 0;
        var scheme = span.StartsWith("https://"u8) ? 8 : span.StartsWith("http://"u8) ? 7 : 0;
        if (scheme == 0)
        {
            return false;
        }

        var urlEnd = span.IndexOfAny(UrlDelimiters);
        var url = urlEnd < 0 ? span : span[..urlEnd];
        var marker = url.IndexOf(Stem);
        // The base must not hold another "://": then the reference starts at that later scheme.
        if (marker < 0 || marker > BlobReference.MaxGatewayLength || url[scheme..marker].IndexOf("://"u8) >= 0)
        {
            return false;
        }

        bangAt = marker + Stem.Length;
        while (bangAt + bangs < url.Length && url[bangAt + bangs] == (byte)'!')
        {
            bangs++;
        }

        var hashStart = bangAt + bangs + 1;
        if (bangAt + bangs >= url.Length || url[bangAt + bangs] != (byte)'/' || url.Length < hashStart + BlobDigest.HexLength + 6)
        {
            return false;
        }

        var rest = url[hashStart..];
        var hash = Encoding.ASCII.GetString(rest[..BlobDigest.HexLength]);
        if (!BlobDigest.IsValidHash(hash) || rest[BlobDigest.HexLength] != (byte)'?')
        {
            return false;
        }

        // A capability (o=…&e=…&c=…&) may come before type=; hydrate drops it with the reference.
        var capabilityLength = CapabilityLength(rest[(BlobDigest.HexLength + 1)..]);
        if (!rest[(BlobDigest.HexLength + 1 + capabilityLength)..].StartsWith("type="u8))
        {
            return false;
        }

        var typeStart = BlobDigest.HexLength + 6 + capabilityLength;
        var typeLength = 0;
        while (typeStart + typeLength < rest.Length && BlobReference.IsTypeChar(rest[typeStart + typeLength]))
        {
            typeLength++;
        }

        var decoded = BlobReference.Decode(rest.Slice(typeStart, typeLength));
        var afterType = rest[(typeStart + typeLength)..];
        if (decoded is null || decoded.Length == 0 || !afterType.StartsWith("&size="u8))
        {
            return false;
        }

        var digits = afterType[6..];
        var digitCount = digits.IndexOfAnyExceptInRange((byte)'0', (byte)'9');
        digitCount = digitCount < 0 ? digits.Length : digitCount;
        if (digitCount is 0 or > 18 || !long.TryParse(Encoding.ASCII.GetString(digits[..digitCount]), NumberStyles.None, CultureInfo.InvariantCulture, out var size))
        {
            return false;
        }

        digest = new BlobDigest(hash, size);
        media = decoded;
        length = hashStart + typeStart + typeLength + 6 + digitCount;
        return true;
    }

    /// <summary>Bytes of a well-formed "o=…&amp;e=…&amp;c=…&amp;" at the start of <paramref name="query"/>, or 0.</summary>
    private static int CapabilityLength(ReadOnlySpan<byte> query)
    {
        if (!query.StartsWith("o="u8))
        {
            return 0;
        }

        var at = 2;
        at += Run(query[at..], b => BlobReference.IsTypeChar(b) || b == (byte)'@');
        if (!query[at..].StartsWith("&e="u8))
        {
            return 0;
        }

        at += 3;
        var digits = Run(query[at..], b => b is >= (byte)'0' and <= (byte)'9');
        at += digits;
        if (digits is 0 or > 19 || !query[at..].StartsWith("&c="u8))
        {
            return 0;
        }

        at += 3;
        var mac = Run(query[at..], b => BlobReference.IsTypeChar(b) && b != (byte)'%' && b != (byte)'.');
        at += mac;
        return mac > 0 && at < query.Length && query[at] == (byte)'&' && at + 1 <= BlobReference.MaxCapabilityLength ? at + 1 : 0;
    }

    private static int Run(ReadOnlySpan<byte> span, Func<byte, bool> accepts)
    {
        var n = 0;
        while (n < span.Length && accepts(span[n]))
        {
            n++;
        }

        return n;
    }
}
