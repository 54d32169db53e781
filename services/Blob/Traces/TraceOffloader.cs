using System.Buffers;
using System.Buffers.Text;
using System.Text;
using Microservices.Blob.Digests;

namespace Microservices.Blob.Traces;

/// <summary>
/// Replaces every <c>data:&lt;media&gt;;base64,&lt;payload&gt;</c> in a trace by a
/// <see cref="BlobReference"/>, streaming: the trace passes through a fixed window and each
/// payload is decoded into a <see cref="PayloadBuffer"/> as it goes, so neither the trace nor a
/// multi-megabyte base64 line is ever held whole. Works on bytes (every ASCII-compatible
/// encoding, UTF-8 included), so everything not offloaded passes through byte for byte.
/// A payload is offloaded only when it is canonical base64 (re-encoding the bytes gives the same
/// text back, which is what makes hydrate exact); anything else stays inline untouched.
/// </summary>
internal sealed class TraceOffloader(ITraceBlobSink sink, OffloadOptions options) : TraceCodec
{
    private static readonly byte[] DataPrefix = "data:"u8.ToArray();
    private static readonly byte[] Http = "http"u8.ToArray();
    private static readonly byte[] Base64Suffix = ";base64"u8.ToArray();
    private static readonly SearchValues<byte> Base64Alphabet =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"u8);
    private static readonly SearchValues<byte> MediaChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$&^_.+-/;="u8);

    private readonly MemoryStream _payloadMemory = new();
    private int _dataUris;
    private int _offloaded;
    private int _stored;
    private long _storedBytes;
    private int _leftInline;

    public async Task<OffloadSummary> OffloadAsync(Stream input, Stream output, CancellationToken cancellationToken)
    {
        var window = new ByteWindow(input);
        while (await window.FillAsync(cancellationToken).ConfigureAwait(false) || window.Available > 0)
        {
            var dataAt = window.Span.IndexOf(DataPrefix);
            var httpAt = window.Span.IndexOf(Http);
            var index = dataAt < 0 ? httpAt : httpAt < 0 ? dataAt : Math.Min(dataAt, httpAt);
            if (index < 0)
            {
                if (!await PassUnmatchedAsync(output, window, DataPrefix.Length, cancellationToken).ConfigureAwait(false))
                {
                    break;
                }

                continue;
            }

            await EmitAsync(output, window, index, cancellationToken).ConfigureAwait(false);
            if (index == httpAt)
            {
                await EscapeReferenceShapedTextAsync(window, output, cancellationToken).ConfigureAwait(false);
                continue;
            }

            await window.EnsureAsync(DataPrefix.Length + BlobReference.MaxMediaLength + Base64Suffix.Length + 2, cancellationToken).ConfigureAwait(false);
            var media = ReadHeader(window.Span[DataPrefix.Length..]);
            if (media is null)
            {
                await EmitAsync(output, window, DataPrefix.Length, cancellationToken).ConfigureAwait(false);
                continue;
            }

            _dataUris++;
            var headerLength = DataPrefix.Length + media.Length + Base64Suffix.Length + 1;
            var startOffset = window.Position;
            var header = window.Memory[..headerLength].ToArray();
            window.Advance(headerLength);
            await OffloadPayloadAsync(window, output, header, media, startOffset, cancellationToken).ConfigureAwait(false);
        }

        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return new OffloadSummary(window.Position, OutputBytes, _dataUris, _offloaded, _stored, _storedBytes, _leftInline);
    }

    /// <summary>
    /// Text of the original that hydrate would read as a reference gets one more '!' after the
    /// marker stem (see <see cref="BlobReference.MarkerStem"/>); other "http" text passes as is.
    /// </summary>
    private async Task EscapeReferenceShapedTextAsync(ByteWindow window, Stream output, CancellationToken cancellationToken)
    {
        await window.EnsureAsync(TraceHydrator.Lookahead, cancellationToken).ConfigureAwait(false);
        if (!TraceHydrator.TryParse(window.Span, out var length, out _, out _, out var bangAt, out _))
        {
            await EmitAsync(output, window, 1, cancellationToken).ConfigureAwait(false);
            return;
        }

        await EmitAsync(output, window, bangAt, cancellationToken).ConfigureAwait(false);
        await WriteAsync(output, "!"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        await EmitAsync(output, window, length - bangAt, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The media part of "&lt;media&gt;;base64," at the start of <paramref name="span"/>, or null.</summary>
    private static byte[]? ReadHeader(ReadOnlySpan<byte> span)
    {
        var limit = Math.Min(span.Length, BlobReference.MaxMediaLength + Base64Suffix.Length + 1);
        var end = span[..limit].IndexOfAnyExcept(MediaChars);
        if (end < 0 || span[end] != (byte)',')
        {
            return null;
        }

        var header = span[..end];
        if (!header.EndsWith(Base64Suffix) || header.Length == Base64Suffix.Length)
        {
            return null;
        }

        return header[..^Base64Suffix.Length].ToArray();
    }

    private async Task OffloadPayloadAsync(ByteWindow window, Stream output, byte[] header, byte[] media, long startOffset, CancellationToken cancellationToken)
    {
        await using var payload = new PayloadBuffer(options.MemoryThreshold, _payloadMemory);
        var decoded = ArrayPool<byte>.Shared.Rent(192 * 1024);
        var carry = new byte[4];
        var carryLength = 0;
        try
        {
            // The alphabet run: decode whole 4-character quanta, keep the rest in carry.
            while (true)
            {
                if (window.Available == 0 && !await window.FillAsync(cancellationToken).ConfigureAwait(false))
                {
                    break;
                }

                var span = window.Span;
                var run = span.IndexOfAnyExcept(Base64Alphabet);
                var take = run < 0 ? span.Length : run;
                var consumed = 0;
                while (carryLength > 0 && carryLength < 4 && consumed < take)
                {
                    carry[carryLength++] = span[consumed++];
                }

                if (carryLength == 4)
                {
                    Base64.DecodeFromUtf8(carry, decoded, out _, out var written, isFinalBlock: false);
                    await payload.WriteAsync(decoded.AsMemory(0, written), cancellationToken).ConfigureAwait(false);
                    carryLength = 0;
                }

                var whole = (take - consumed) / 4 * 4;
                while (whole > 0)
                {
                    var chunk = Math.Min(whole, decoded.Length / 3 * 4);
                    Base64.DecodeFromUtf8(window.Span.Slice(consumed, chunk), decoded, out var used, out var written, isFinalBlock: false);
                    await payload.WriteAsync(decoded.AsMemory(0, written), cancellationToken).ConfigureAwait(false);
                    consumed += used;
                    whole -= used;
                }

                span = window.Span;
                while (consumed < take)
                {
                    carry[carryLength++] = span[consumed++];
                }

                window.Advance(consumed);
                if (payload.Length > options.MaxPayloadBytes)
                {
                    await LeaveOversizedInlineAsync(window, output, header, payload, carry.AsMemory(0, carryLength), startOffset, cancellationToken).ConfigureAwait(false);
                    return;
                }

                if (run >= 0)
                {
                    break;
                }
            }

            // Padding ('=' at most twice) and what follows decide whether the payload is canonical.
            await window.EnsureAsync(3, cancellationToken).ConfigureAwait(false);
            var padding = 0;
            while (padding < 2 && padding < window.Available && window.Span[padding] == (byte)'=')
            {
                padding++;
            }

            var reason = Validate(carry.AsSpan(0, carryLength), padding, payload.Length, window.Span[padding..]);
            var oversized = reason is null && payload.Length + (padding > 0 ? carryLength - 1 : 0) > options.MaxPayloadBytes;
            if (reason is null && !oversized)
            {
                if (padding > 0)
                {
                    Span<byte> quantum = stackalloc byte[4];
                    carry.AsSpan(0, carryLength).CopyTo(quantum);
                    quantum[carryLength..].Fill((byte)'=');
                    Span<byte> tail = stackalloc byte[3];
                    Base64.DecodeFromUtf8(quantum, tail, out _, out var written, isFinalBlock: true);
                    await payload.WriteAsync(tail[..written].ToArray(), cancellationToken).ConfigureAwait(false);
                }

                window.Advance(padding);
                var digest = payload.Complete();
                await using (var content = await payload.OpenAsync(cancellationToken).ConfigureAwait(false))
                {
                    var stored = await sink.StoreAsync(digest, content, _offloaded, cancellationToken).ConfigureAwait(false);
                    if (stored > 0)
                    {
                        _stored++;
                        _storedBytes += stored;
                    }
                }

                _offloaded++;
                await WriteAsync(output, Encoding.ASCII.GetBytes(BlobReference.Format(options.Gateway, digest, media, options.Capability?.Invoke(digest))), cancellationToken).ConfigureAwait(false);
                return;
            }

            if (options.Strict)
            {
                throw oversized
                    ? new OversizedTracePayloadException(startOffset, options.PayloadLimitName, options.MaxPayloadBytes)
                    : new InvalidTracePayloadException(startOffset, reason!);
            }

            // Left inline exactly as written: whole quanta re-encode to the same text, the carry
            // and padding are copied as they were.
            _leftInline++;
            await WriteAsync(output, header, cancellationToken).ConfigureAwait(false);
            await using (var content = await payload.OpenAsync(cancellationToken).ConfigureAwait(false))
            {
                await Base64Streams.EncodeAsync(content, bytes => WriteAsync(output, bytes, cancellationToken), cancellationToken).ConfigureAwait(false);
            }

            await WriteAsync(output, carry.AsMemory(0, carryLength), cancellationToken).ConfigureAwait(false);
            await EmitAsync(output, window, padding, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(decoded);
        }
    }

    /// <summary>
    /// A payload over the limit is neither stored nor decoded further: what was decoded is
    /// re-encoded (whole quanta give the same text back) and the rest of it passes through as written.
    /// </summary>
    private async Task LeaveOversizedInlineAsync(ByteWindow window, Stream output, byte[] header, PayloadBuffer payload, ReadOnlyMemory<byte> carry, long startOffset, CancellationToken cancellationToken)
    {
        if (options.Strict)
        {
            throw new OversizedTracePayloadException(startOffset, options.PayloadLimitName, options.MaxPayloadBytes);
        }

        _leftInline++;
        await WriteAsync(output, header, cancellationToken).ConfigureAwait(false);
        await using (var content = await payload.OpenAsync(cancellationToken).ConfigureAwait(false))
        {
            await Base64Streams.EncodeAsync(content, bytes => WriteAsync(output, bytes, cancellationToken), cancellationToken).ConfigureAwait(false);
        }

        await WriteAsync(output, carry, cancellationToken).ConfigureAwait(false);
        while (window.Available > 0 || await window.FillAsync(cancellationToken).ConfigureAwait(false))
        {
            var run = window.Span.IndexOfAnyExcept(Base64Alphabet);
            await EmitAsync(output, window, run < 0 ? window.Available : run, cancellationToken).ConfigureAwait(false);
            if (run >= 0)
            {
                return;
            }
        }
    }

    private static string? Validate(ReadOnlySpan<byte> carry, int padding, long decodedLength, ReadOnlySpan<byte> next)
    {
        if (decodedLength == 0 && carry.Length == 0)
        {
            return "empty payload";
        }

        if (padding == 0)
        {
            return carry.Length == 0 ? null : $"length is not a multiple of 4 ({carry.Length} characters left over)";
        }

        if (carry.Length + padding != 4 || carry.Length < 2)
        {
            return "padding does not complete the last 4-character group";
        }

        if (next.Length > 0 && next[0] == (byte)'=')
        {
            return "too much padding";
        }

        // Bits the padding makes unused must be zero, or re-encoding would change the text.
        var last = DecodeChar(carry[^1]);
        var unusedBits = padding == 2 ? 0x0F : 0x03;
        if ((last & unusedBits) != 0)
        {
            return "non-zero bits in the padded group";
        }

        // A digit right after the padding would run into the reference's size.
        return next.Length > 0 && next[0] is >= (byte)'0' and <= (byte)'9' ? "a digit follows the padding" : null;
    }

    private static int DecodeChar(byte c) => c switch
    {
        >= (byte)'A' and <= (byte)'Z' => c - 'A',
        >= (byte)'a' and <= (byte)'z' => c - 'a' + 26,
        >= (byte)'0' and <= (byte)'9' => c - '0' + 52,
        (byte)'+' => 62,
        _ => 63,
    };
}
