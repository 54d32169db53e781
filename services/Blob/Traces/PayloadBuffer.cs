using Microservices.Blob.Digests;

namespace Microservices.Blob.Traces;

/// <summary>
/// Decoded payload bytes, hashed as they arrive: in memory up to a threshold, then in a temp
/// file (deleted on dispose), so one image of any size costs bounded memory.
/// </summary>
internal sealed class PayloadBuffer : IAsyncDisposable
{
    private readonly int _memoryThreshold;
    private readonly HashingWriteStream _hash = new(null);
    private MemoryStream? _memory;
    private FileStream? _file;

    /// <param name="memoryThreshold">Bytes kept in memory before spilling to a temp file.</param>
    /// <param name="reuse">
    /// Memory to reuse (emptied here): one buffer for every payload of a trace instead of a new
    /// large-object-heap array per image, which would keep growing the process.
    /// </param>
    public PayloadBuffer(int memoryThreshold, MemoryStream? reuse = null)
    {
        _memoryThreshold = memoryThreshold;
        _memory = reuse ?? new MemoryStream();
        _memory.SetLength(0);
    }

    public long Length => _hash.BytesWritten;

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        await _hash.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        if (_memory is not null && _memory.Length + data.Length > _memoryThreshold)
        {
            _file = new FileStream(Path.Combine(Path.GetTempPath(), $"blob-payload-{Guid.NewGuid():N}.tmp"), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 81920, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
            _memory.Position = 0;
            await _memory.CopyToAsync(_file, cancellationToken).ConfigureAwait(false);
            _memory = null;
        }

        if (_memory is not null)
        {
            _memory.Write(data.Span);
        }
        else
        {
            await _file!.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        }
    }

    public BlobDigest Complete() => _hash.Complete();

    /// <summary>The bytes from the start; valid until the buffer is disposed.</summary>
    public async ValueTask<Stream> OpenAsync(CancellationToken cancellationToken)
    {
        if (_memory is not null)
        {
            return new MemoryStream(_memory.GetBuffer(), 0, (int)_memory.Length, writable: false);
        }

        await _file!.FlushAsync(cancellationToken).ConfigureAwait(false);
        _file.Position = 0;
        return new NonClosingStream(_file);
    }

    public async ValueTask DisposeAsync()
    {
        _hash.Dispose();
        if (_file is not null)
        {
            await _file.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Lets consumers dispose what they were given without closing the temp file early.</summary>
    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => inner.CanSeek;

        public override bool CanWrite => false;

        public override long Length => inner.Length;

        public override long Position { get => inner.Position; set => inner.Position = value; }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
