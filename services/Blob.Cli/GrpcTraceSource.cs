using Grpc.Core;
using Microservices.Blob.Digests;
using Microservices.Blob.Traces;

namespace Microservices.Blob.Cli;

/// <summary>Client-side hydrate: each referenced blob is downloaded and checked against its digest before use.</summary>
internal sealed class GrpcTraceSource(BlobCalls client) : ITraceBlobSource
{
    public async ValueTask<Stream> OpenAsync(BlobDigest digest, CancellationToken cancellationToken)
    {
        var buffer = new PayloadBuffer(8 * 1024 * 1024);
        try
        {
            await client.DownloadAsync(digest, new BufferWriteStream(buffer), null, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException error) when (error.StatusCode == StatusCode.NotFound)
        {
            await buffer.DisposeAsync().ConfigureAwait(false);
            throw new MissingTraceBlobException(digest, -1);
        }

        if (buffer.Complete() != digest)
        {
            await buffer.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException($"downloaded bytes of sha256:{digest.Hash} do not match the digest");
        }

        return new OwningStream(await buffer.OpenAsync(cancellationToken).ConfigureAwait(false), buffer);
    }

    private sealed class BufferWriteStream(PayloadBuffer buffer) : Stream
    {
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => buffer.WriteAsync(data, cancellationToken);

        public override void Write(byte[] data, int offset, int count) => throw new NotSupportedException();

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => buffer.Length;

        public override long Position { get => buffer.Length; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] data, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>Disposes the payload buffer (and its temp file) with the stream over it.</summary>
    private sealed class OwningStream(Stream inner, PayloadBuffer owner) : Stream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> data, CancellationToken cancellationToken = default) => inner.ReadAsync(data, cancellationToken);

        public override int Read(byte[] data, int offset, int count) => inner.Read(data, offset, count);

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync().ConfigureAwait(false);
            await owner.DisposeAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] data, int offset, int count) => throw new NotSupportedException();
    }
}
