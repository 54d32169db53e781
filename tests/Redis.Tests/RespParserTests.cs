using System.Buffers;
using System.Text;
using Microservices.Redis.Protocol;

namespace Microservices.Redis.Tests;

public sealed class RespParserTests
{
    private const string Nested = "*3\r\n:1\r\n*2\r\n$3\r\na\0b\r\n*-1\r\n$-1\r\n";

    [Fact]
    public void Parses_nested_arrays_with_nils_and_binary()
    {
        var reply = ParseAll(Encoding.ASCII.GetBytes(Nested));

        Assert.Equal(RedisReplyKind.Array, reply.Kind);
        Assert.Equal(1, reply.Elements![0].Integer);
        Assert.Equal("a\0b"u8.ToArray(), reply.Elements[1].Elements![0].Bytes);
        Assert.True(reply.Elements[1].Elements![1].IsNull);
        Assert.True(reply.Elements[2].IsNull);
    }

    [Fact]
    public void Waits_for_more_bytes_at_every_split_point_without_consuming()
    {
        var bytes = Encoding.ASCII.GetBytes(Nested);
        for (var split = 0; split < bytes.Length; split++)
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes, 0, split));
            Assert.False(RespParser.TryRead(ref reader, out _));
            Assert.Equal(0, reader.Consumed);
        }
    }

    [Fact]
    public void Parses_replies_split_across_many_segments()
    {
        var bytes = Encoding.ASCII.GetBytes(Nested + "+OK\r\n");
        var sequence = Segments.Create(bytes, segmentSize: 1);
        var reader = new SequenceReader<byte>(sequence);

        Assert.True(RespParser.TryRead(ref reader, out var first));
        Assert.Equal(3, first.Elements!.Count);
        Assert.True(RespParser.TryRead(ref reader, out var second));
        Assert.Equal("OK", second.AsString());
        Assert.True(reader.End);
    }

    [Theory]
    [InlineData("?oops\r\n")]
    [InlineData("$3\r\nabcXY")]
    [InlineData(":12a\r\n")]
    [InlineData("$-5\r\n")]
    public void Malformed_input_is_a_protocol_error(string input)
    {
        var bytes = Encoding.ASCII.GetBytes(input);
        Assert.Throws<RedisProtocolException>(() => ParseAll(bytes));
    }

    private static RedisReply ParseAll(byte[] bytes)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        Assert.True(RespParser.TryRead(ref reader, out var reply));
        return reply;
    }

    private sealed class Segments : ReadOnlySequenceSegment<byte>
    {
        private Segments(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public static ReadOnlySequence<byte> Create(byte[] bytes, int segmentSize)
        {
            var first = new Segments(bytes.AsMemory(0, segmentSize), 0);
            var last = first;
            for (var i = segmentSize; i < bytes.Length; i += segmentSize)
            {
                var next = new Segments(bytes.AsMemory(i, Math.Min(segmentSize, bytes.Length - i)), i);
                last.Next = next;
                last = next;
            }

            return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        }
    }
}
