using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using Google.Protobuf;

namespace Microservices.Grpc.Protocol;

/// <summary>Writes one length-prefixed gRPC message, compressed with the given encoding or not.</summary>
internal static class MessageWriter
{
    public static void Write(IBufferWriter<byte> output, IMessage message, string? compression, CompressionLevel level, int maxMessageSize)
    {
        var size = message.CalculateSize();
        if (size > maxMessageSize)
        {
            throw new RpcException(StatusCode.ResourceExhausted,
                $"Message of {size} bytes exceeds the maximum send size of {maxMessageSize} bytes.");
        }

        if (compression is null or MessageCompression.Identity)
        {
            var span = output.GetSpan(GrpcHeaders.MessagePrefixLength + size);
            span[0] = 0;
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)size);
            message.WriteTo(span.Slice(GrpcHeaders.MessagePrefixLength, size));
            output.Advance(GrpcHeaders.MessagePrefixLength + size);
            return;
        }

        var raw = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            message.WriteTo(raw.AsSpan(0, size));
            var compressed = MessageCompression.Compress(compression, raw.AsSpan(0, size), level);
            var span = output.GetSpan(GrpcHeaders.MessagePrefixLength + compressed.Length);
            span[0] = 1;
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)compressed.Length);
            compressed.CopyTo(span[GrpcHeaders.MessagePrefixLength..]);
            output.Advance(GrpcHeaders.MessagePrefixLength + compressed.Length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(raw);
        }
    }
}
