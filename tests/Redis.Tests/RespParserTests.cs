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

    [Fact]
    public void Parses_resp3_types_into_resp2_shapes()
    {
        var input = "*9\r\n%1\r\n+k\r\n:1\r\n~2\r\n:1\r\n:2\r\n_\r\n#t\r\n,1.5\r\n(12345678901234567890\r\n=8\r\ntxt:text\r\n!5\r\nERR x\r\n|1\r\n+ttl\r\n:3\r\n+annotated\r\n";

        var e = ParseAll(Encoding.ASCII.GetBytes(input)).Elements!;

        Assert.Equal(["k", "1"], e[0].Elements!.Select(x => x.AsString()));
        Assert.Equal([1L, 2L], e[1].Elements!.Select(x => x.Integer));
        Assert.True(e[2].IsNull);
        Assert.Equal(1, e[3].Integer);
        Assert.Equal("1.5", e[4].AsString());
        Assert.Equal("12345678901234567890", e[5].AsString());
        Assert.Equal("text", e[6].AsString());
        Assert.True(e[7].IsError);
        Assert.Equal("annotated", e[8].AsString());
    }

    [Fact]
    public void A_resp3_push_is_flagged_so_it_is_never_taken_for_a_reply()
    {
        var push = ParseAll(Encoding.ASCII.GetBytes(">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nx\r\n"));

        Assert.True(push.IsPush);
        Assert.Equal(3, push.Elements!.Count);
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
