using System.Buffers;
using System.Globalization;

namespace Microservices.Redis.Protocol;

/// <summary>Writes commands as RESP arrays of bulk strings, the only form servers must accept.</summary>
internal static class RespWriter
{
    // Commands up to this size are formatted into one span: one GetSpan/Advance instead of several per argument.
    private const int SingleSpanLimit = 4096;

    public static void WriteCommand(IBufferWriter<byte> writer, ReadOnlyMemory<byte>[] args)
    {
        var size = 16;
        foreach (var arg in args)
        {
            size += arg.Length + 16;
        }

        if (size <= SingleSpanLimit)
        {
            var span = writer.GetSpan(size);
            var written = Header(span, (byte)'*', args.Length);
            foreach (var arg in args)
            {
                written += Header(span[written..], (byte)'$', arg.Length);
                arg.Span.CopyTo(span[written..]);
                written += arg.Length;
                span[written++] = (byte)'\r';
                span[written++] = (byte)'\n';
            }

            writer.Advance(written);
            return;
        }

        WriteHeader(writer, (byte)'*', args.Length);
        foreach (var arg in args)
        {
            WriteHeader(writer, (byte)'$', arg.Length);
            writer.Write(arg.Span);
            writer.Write("\r\n"u8);
        }
    }

    private static void WriteHeader(IBufferWriter<byte> writer, byte prefix, int value) =>
        writer.Advance(Header(writer.GetSpan(16), prefix, value));

    private static int Header(Span<byte> span, byte prefix, int value)
    {
        span[0] = prefix;
        value.TryFormat(span[1..], out var digits, default, CultureInfo.InvariantCulture);
        span[1 + digits] = (byte)'\r';
        span[2 + digits] = (byte)'\n';
        return 3 + digits;
    }
}
