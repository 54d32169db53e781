using Grpc.Core;
using Microservices.Registry.Models;
using Microservices.Registry.V1;

namespace Microservices.Registry.Grpc;

/// <summary>
/// The chunks of an ImportModelList client stream as a read-only Stream, so the domain reads
/// (and bounds) the file the same way whether it comes over gRPC or from disk. Nothing is
/// buffered here beyond the current chunk.
/// </summary>
internal sealed class ImportChunkStream : Stream
{
    private readonly IAsyncStreamReader<ImportModelListRequest> _rest;
    private ReadOnlyMemory<byte> _current;
    private long _received;
    private bool _done;

    public ImportChunkStream(ImportModelListRequest first, IAsyncStreamReader<ImportModelListRequest> rest)
    {
        _rest = rest;
        Accept(first);
    }

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
            if (_done || !await _rest.MoveNext(cancellationToken))
            {
                _done = true;
                return 0;
            }

            Accept(_rest.Current);
        }

        var count = Math.Min(buffer.Length, _current.Length);
        _current[..count].CopyTo(buffer);
        _current = _current[count..];
        return count;
    }

    /// <summary>A message must say where its chunk starts: one that does not follow on is a stream that lost messages.</summary>
    private void Accept(ImportModelListRequest message)
    {
        if (message.Offset != _received)
        {
            throw RegistryException.InvalidArgument(
                "offset",
                $"this message's chunk starts at {message.Offset}, but {_received} bytes came before it; a stream without its first messages is refused (nothing was imported)");
        }

        _current = message.Chunk.Memory;
        _received += message.Chunk.Length;
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
