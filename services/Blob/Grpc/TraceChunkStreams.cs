using Google.Protobuf;
using Grpc.Core;
using Microservices.Blob.Domain;
using Microservices.Blob.Streams;
using Microservices.Blob.V1;

namespace Microservices.Blob.Grpc;

/// <summary>The data chunks of a TraceChunk request stream, as a Stream the trace codecs read.</summary>
internal sealed class TraceChunkReadStream(IAsyncStreamReader<TraceChunk> requests) : AsyncReadOnlyStream
{
    private ReadOnlyMemory<byte> _current;
    private bool _ended;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_current.IsEmpty)
        {
            if (_ended || !await requests.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                _ended = true;
                return 0;
            }

            var chunk = requests.Current;
            if (chunk.KindCase != TraceChunk.KindOneofCase.Data)
            {
                throw BlobException.Invalid($"after the header every TraceChunk must carry data, got {chunk.KindCase}");
            }

            _current = chunk.Data.Memory;
        }

        var count = Math.Min(buffer.Length, _current.Length);
        _current[..count].CopyTo(buffer);
        _current = _current[count..];
        return count;
    }
}

/// <summary>A Stream whose bytes leave as TraceChunk data messages of at most 64 KiB.</summary>
internal sealed class TraceChunkWriteStream(IServerStreamWriter<TraceChunk> responses) : Stream
{
    private const int ChunkSize = 64 * 1024;
    private readonly MemoryStream _pending = new();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            var take = Math.Min(buffer.Length, ChunkSize - (int)_pending.Length);
            _pending.Write(buffer.Span[..take]);
            buffer = buffer[take..];
            if (_pending.Length == ChunkSize)
            {
                await FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_pending.Length == 0)
        {
            return;
        }

        var chunk = new TraceChunk { Data = ByteString.CopyFrom(_pending.GetBuffer(), 0, (int)_pending.Length) };
        _pending.SetLength(0);
        await responses.WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
    }

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("write asynchronously");

    public override void Flush()
    {
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
