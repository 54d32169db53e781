using System.Buffers;
using System.Buffers.Text;

namespace Microservices.Redis.Protocol;

/// <summary>
/// Parses one RESP2 or RESP3 reply from a buffer that may hold only part of it. RESP3 types are
/// mapped onto the RESP2 shapes callers know (as StackExchange.Redis does): maps and sets become
/// flat arrays, booleans integers 1/0, doubles and big numbers bulk strings, verbatim strings
/// their text, blob errors errors; attributes are skipped. Incomplete input leaves the
/// reader where it was so the caller can wait for more bytes; malformed input throws.
/// </summary>
internal static class RespParser
{
    // Deeper than any reply a real command produces; stops a hostile peer from blowing the stack.
    private const int MaxDepth = 64;

    private static readonly RedisReply Zero = RedisReply.FromInteger(0);
    private static readonly RedisReply One = RedisReply.FromInteger(1);
    private static readonly RedisReply Ok = RedisReply.SimpleString("OK"u8.ToArray());
    private static readonly RedisReply EmptyBulk = RedisReply.Bulk([]);

    public static bool TryRead(ref SequenceReader<byte> reader, out RedisReply reply)
    {
        var start = reader.Consumed;
        if (TryReadCore(ref reader, 0, out reply!))
        {
            return true;
        }

        reader.Rewind(reader.Consumed - start);
        return false;
    }

    private static bool TryReadCore(ref SequenceReader<byte> reader, int depth, out RedisReply? reply)
    {
        reply = null;
        if (depth > MaxDepth)
        {
            throw new RedisProtocolException($"Reply nests deeper than {MaxDepth} levels.");
        }

        // The span overload copies only when the line straddles segments, which is rare.
        if (!reader.TryRead(out var type) || !reader.TryReadTo(out ReadOnlySpan<byte> line, "\r\n"u8))
        {
            return false;
        }

        switch (type)
        {
            case (byte)'+':
                reply = line.SequenceEqual("OK"u8) ? Ok : RedisReply.SimpleString(line.ToArray());
                return true;
            case (byte)'-':
                reply = RedisReply.Error(line.ToArray());
                return true;
            case (byte)':':
                var integer = ParseInteger(line);
                reply = integer switch { 0 => Zero, 1 => One, _ => RedisReply.FromInteger(integer) };
                return true;
            case (byte)'$':
                return TryReadBulk(ref reader, ParseInteger(line), out reply);
            case (byte)'*':
            case (byte)'~':
                return TryReadArray(ref reader, ParseInteger(line), depth, RedisReply.Array, out reply);
            case (byte)'>':
                return TryReadArray(ref reader, ParseInteger(line), depth, RedisReply.Push, out reply);
            case (byte)'%':
                return TryReadArray(ref reader, 2 * ParseInteger(line), depth, RedisReply.Array, out reply);
            case (byte)'_':
                reply = RedisReply.Null;
                return true;
            case (byte)'#':
                reply = line.SequenceEqual("t"u8) ? One : line.SequenceEqual("f"u8) ? Zero : throw new RedisProtocolException("Invalid RESP3 boolean.");
                return true;
            case (byte)',':
            case (byte)'(':
                reply = RedisReply.Bulk(line.ToArray());
                return true;
            case (byte)'!':
                if (!TryReadBulk(ref reader, ParseInteger(line), out var blobError))
                {
                    return false;
                }

                reply = RedisReply.Error(blobError!.Bytes ?? []);
                return true;
            case (byte)'=':
                if (!TryReadBulk(ref reader, ParseInteger(line), out var verbatim))
                {
                    return false;
                }

                // "txt:" or "mkd:" format prefix, then the text.
                var text = verbatim!.Bytes ?? [];
                reply = RedisReply.Bulk(text.Length >= 4 && text[3] == (byte)':' ? text[4..] : text);
                return true;
            case (byte)'|':
                // Attributes annotate the reply that follows; nothing here uses them.
                return TryReadArray(ref reader, 2 * ParseInteger(line), depth, RedisReply.Array, out _)
                    && TryReadCore(ref reader, depth + 1, out reply);
            default:
                throw new RedisProtocolException($"Unexpected RESP type byte 0x{type:x2}.");
        }
    }

    private static bool TryReadBulk(ref SequenceReader<byte> reader, long length, out RedisReply? reply)
    {
        reply = null;
        if (length == -1)
        {
            reply = RedisReply.Null;
            return true;
        }

        if (length < 0 || length > int.MaxValue)
        {
            throw new RedisProtocolException($"Invalid bulk length {length}.");
        }

        if (reader.Remaining < length + 2)
        {
            return false;
        }

        if (length == 0)
        {
            reply = EmptyBulk;
        }
        else
        {
            var bytes = GC.AllocateUninitializedArray<byte>((int)length);
            reader.TryCopyTo(bytes);
            reader.Advance(length);
            reply = RedisReply.Bulk(bytes);
        }

        if (!reader.IsNext("\r\n"u8, advancePast: true))
        {
            throw new RedisProtocolException("Bulk string not terminated by CRLF.");
        }

        return true;
    }

    private static bool TryReadArray(ref SequenceReader<byte> reader, long count, int depth, Func<RedisReply[], RedisReply> create, out RedisReply? reply)
    {
        reply = null;
        if (count == -1)
        {
            reply = RedisReply.Null;
            return true;
        }

        if (count < 0 || count > int.MaxValue)
        {
            throw new RedisProtocolException($"Invalid array length {count}.");
        }

        // Each element takes at least 3 bytes; refuse to allocate for elements that have not arrived.
        if (reader.Remaining < count * 3)
        {
            return false;
        }

        var elements = new RedisReply[count];
        for (var i = 0; i < elements.Length; i++)
        {
            if (!TryReadCore(ref reader, depth + 1, out var element))
            {
                return false;
            }

            elements[i] = element!;
        }

        reply = create(elements);
        return true;
    }

    private static long ParseInteger(ReadOnlySpan<byte> text)
    {
        if (!Utf8Parser.TryParse(text, out long value, out var consumed) || consumed != text.Length)
        {
            throw new RedisProtocolException("Invalid integer in reply header.");
        }

        return value;
    }
}
