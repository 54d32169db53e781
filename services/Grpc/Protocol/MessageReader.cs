using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Google.Protobuf;

namespace Microservices.Grpc.Protocol;

/// <summary>
/// Reads length-prefixed gRPC messages from a pipe: 1 byte compressed flag, 4 bytes big-endian
/// length, then the message. Used by the server for requests and by the client for responses.
/// </summary>
internal sealed class MessageReader(PipeReader reader, string? encoding, int maxMessageSize)
{
    // Set when the read that returned the last message already saw the end of the stream, so
    // the next read answers "end" without another ReadAsync/AdvanceTo round on the pipe (which
    // costs a flow-control update in Kestrel): a unary request then takes one read, not two.
    private bool _endSeen;

    /// <summary>Whether the last message read arrived compressed.</summary>
    public bool LastMessageCompressed { get; private set; }

    /// <summary>The next message, or null at a clean end of the stream.</summary>
    public async ValueTask<T?> ReadAsync<T>(MessageParser<T> parser, CancellationToken cancellationToken)
        where T : class, IMessage<T>
    {
        if (_endSeen)
        {
            return null;
        }

        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length >= GrpcHeaders.MessagePrefixLength)
            {
                var (compressed, length) = ReadPrefix(buffer);
                if (length > maxMessageSize)
                {
                    reader.AdvanceTo(buffer.Start);
                    throw new RpcException(StatusCode.ResourceExhausted,
                        $"Received message of {length} bytes exceeds the maximum message size of {maxMessageSize} bytes.");
                }

                var frameLength = GrpcHeaders.MessagePrefixLength + length;
                if (buffer.Length >= frameLength)
                {
                    var payload = buffer.Slice(GrpcHeaders.MessagePrefixLength, length);
                    _endSeen = result.IsCompleted && buffer.Length == frameLength;
                    try
                    {
                        LastMessageCompressed = compressed;
                        return Parse(parser, payload, compressed);
                    }
                    finally
                    {
                        reader.AdvanceTo(buffer.GetPosition(frameLength));
                    }
                }
            }

            if (result.IsCompleted)
            {
                var remaining = buffer.Length;
                reader.AdvanceTo(buffer.End);
                if (remaining == 0)
                {
                    return null;
                }

                throw new RpcException(StatusCode.Internal,
                    $"Incomplete message: the stream ended {remaining} bytes into a message frame.");
            }

            if (result.IsCanceled)
            {
                reader.AdvanceTo(buffer.Start);
                throw new OperationCanceledException(cancellationToken);
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static (bool Compressed, long Length) ReadPrefix(ReadOnlySequence<byte> buffer)
    {
        Span<byte> prefix = stackalloc byte[GrpcHeaders.MessagePrefixLength];
        buffer.Slice(0, GrpcHeaders.MessagePrefixLength).CopyTo(prefix);
        var flag = prefix[0];
        if (flag > 1)
        {
            throw new RpcException(StatusCode.Internal, $"Invalid message prefix: compressed flag is {flag}, expected 0 or 1.");
        }

        return (flag == 1, BinaryPrimitives.ReadUInt32BigEndian(prefix[1..]));
    }

    private T Parse<T>(MessageParser<T> parser, ReadOnlySequence<byte> payload, bool compressed)
        where T : class, IMessage<T>
    {
        try
        {
            if (!compressed)
            {
                return parser.ParseFrom(payload);
            }

            if (encoding is null or MessageCompression.Identity)
            {
                throw new RpcException(StatusCode.Internal,
                    "Message has the compressed flag set but the call declared no grpc-encoding.");
            }

            return parser.ParseFrom(MessageCompression.Decompress(encoding, payload.ToArray(), maxMessageSize));
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new RpcException(StatusCode.Internal, $"Failed to deserialize {typeof(T).Name}: {ex.Message}");
        }
        catch (InvalidDataException ex)
        {
            throw new RpcException(StatusCode.Internal, $"Failed to decompress a {encoding} message: {ex.Message}");
        }
    }
}
