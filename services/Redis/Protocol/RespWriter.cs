using System.Buffers;
using System.Globalization;

namespace Microservices.Redis.Protocol;

/// <summary>Writes commands as RESP arrays of bulk strings, the only form servers must accept.</summary>
internal static class RespWriter
{
    public static void WriteCommand(IBufferWriter<byte> writer, ReadOnlyMemory<byte>[] args)
    {
        WriteHeader(writer, (byte)'*', args.Length);
        foreach (var arg in args)
        {
            WriteHeader(writer, (byte)'$', arg.Length);
            writer.Write(arg.Span);
            WriteCrlf(writer);
        }
    }

    private static void WriteHeader(IBufferWriter<byte> writer, byte prefix, int value)
    {
        var span = writer.GetSpan(16);
        span[0] = prefix;
        value.TryFormat(span[1..], out var written, default, CultureInfo.InvariantCulture);
        span[1 + written] = (byte)'\r';
        span[2 + written] = (byte)'\n';
        writer.Advance(3 + written);
    }

    private static void WriteCrlf(IBufferWriter<byte> writer)
    {
        var span = writer.GetSpan(2);
        span[0] = (byte)'\r';
        span[1] = (byte)'\n';
        writer.Advance(2);
    }
}
