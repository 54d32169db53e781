using Google.Protobuf;
using Grpc.Core;
using Microservices.Registry.V1;

namespace Microservices.Registry.Grpc;

/// <summary>
/// The chunks of an ImportModelList client stream as a read-only Stream, so the domain reads
/// (and bounds) the file the same way whether it comes over gRPC or from disk. Nothing is
/// buffered here beyond the current chunk.
/// </summary>
internal sealed class ImportChunkStream(ByteString first, IAsyncStreamReader<ImportModelListRequest> rest) : Stream
{
    private ReadOnlyMemory<byte> _current = first.Memory;
    private bool _done;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_current.IsEmpty)
        {
            if (_done || !await rest.MoveNext(cancellationToken))
            {
                _done = true;
                return 0;
            }

            _current = rest.Current.Chunk.Memory;
        }

        var count = Math.Min(buffer.Length, _current.Length);
        _current[..count].CopyTo(buffer);
        _current = _current[count..];
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("Read asynchronously: the chunks arrive over the network.");

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
