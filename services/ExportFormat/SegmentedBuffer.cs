using System.Buffers;

namespace Microservices.ExportFormat;

/// <summary>
/// An append-only in-memory buffer made of pooled 1 MiB segments: it grows without copying what it
/// holds (a MemoryStream doubles and copies, and cannot pass 2 GiB, while S3 parts may be 5 GiB),
/// and gives its segments back to the pool when disposed.
/// </summary>
internal sealed class SegmentedBuffer : Stream
{
    internal const int SegmentSize = 1024 * 1024;
    private readonly List<byte[]> _segments = [];
    private long _length;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => _length;

    public override long Position { get => _length; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var used = (int)(_length % SegmentSize);
            if (used == 0 && _length / SegmentSize == _segments.Count)
            {
                _segments.Add(ArrayPool<byte>.Shared.Rent(SegmentSize));
            }

            var take = Math.Min(buffer.Length, SegmentSize - used);
            buffer[..take].CopyTo(_segments[^1].AsSpan(used));
            _length += take;
            buffer = buffer[take..];
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    /// <summary>A read-only stream over the bytes from the start; each call is independent (an upload can be retried).</summary>
    public Stream OpenRead() => new Reader(this);

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var segment in _segments)
            {
                ArrayPool<byte>.Shared.Return(segment);
            }

            _segments.Clear();
            _length = 0;
        }

        base.Dispose(disposing);
    }

    /// <summary>Seekable, so an HTTP client can rewind it for a retry and knows its length.</summary>
    private sealed class Reader(SegmentedBuffer buffer) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => buffer._length;

        public override long Position
        {
            get => _position;
            set => _position = value is >= 0 ? Math.Min(value, Length) : throw new ArgumentOutOfRangeException(nameof(value));
        }

        public override int Read(byte[] destination, int offset, int count) => Read(destination.AsSpan(offset, count));

        public override int Read(Span<byte> destination)
        {
            var total = 0;
            while (!destination.IsEmpty && _position < Length)
            {
                var segment = buffer._segments[(int)(_position / SegmentSize)];
                var at = (int)(_position % SegmentSize);
                var take = (int)Math.Min(Math.Min(destination.Length, SegmentSize - at), Length - _position);
                segment.AsSpan(at, take).CopyTo(destination);
                destination = destination[take..];
                _position += take;
                total += take;
            }

            return total;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(destination.Span));

        public override Task<int> ReadAsync(byte[] destination, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(destination.AsSpan(offset, count)));

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => Length + offset,
        };

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] source, int offset, int count) => throw new NotSupportedException();
    }
}
