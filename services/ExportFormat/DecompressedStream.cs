using System.IO.Compression;

namespace Microservices.ExportFormat;

/// <summary>
/// The tar bytes between GZipStream and TarReader. Counting here, rather than trusting what headers
/// claim, is what stops a decompression bomb: the total and the ratio are checked on every read, before
/// TarReader sees the bytes, and <see cref="TarFraming"/> checks each header block before TarReader parses it.
/// </summary>
internal sealed class DecompressedStream(GZipStream gzip, SourceStream compressed, ArchiveLimits limits) : ReadOnlyStream
{
    public TarFraming Framing { get; } = new(limits);

    public long BytesRead { get; private set; }

    public override int Read(Span<byte> buffer)
    {
        int read;
        try
        {
            read = gzip.Read(buffer);
        }
        catch (InvalidDataException e)
        {
            throw CorruptGzip(e);
        }

        Observe(buffer[..read]);
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read;
        try
        {
            read = await gzip.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException e)
        {
            throw CorruptGzip(e);
        }

        Observe(buffer.Span[..read]);
        return read;
    }

    private void Observe(ReadOnlySpan<byte> read)
    {
        BytesRead += read.Length;
        if (BytesRead > limits.MaxTotalBytes)
        {
            throw new ArchiveRejectedException(
                ArchiveRejection.TooLarge,
                $"the archive holds more than {limits.MaxTotalBytes} bytes uncompressed (ArchiveLimits.MaxTotalBytes)");
        }

        if (BytesRead >= ArchiveLimits.RatioCheckedAfterBytes && BytesRead > limits.MaxCompressionRatio * compressed.BytesRead)
        {
            throw new ArchiveRejectedException(
                ArchiveRejection.CompressionRatio,
                $"the archive decompressed to {BytesRead} bytes from the first {compressed.BytesRead} compressed bytes, " +
                $"more than {limits.MaxCompressionRatio}:1 (ArchiveLimits.MaxCompressionRatio): refused as a decompression bomb");
        }

        Framing.Observe(read);
    }

    private ArchiveRejectedException CorruptGzip(InvalidDataException e) => new(
        ArchiveRejection.CorruptGzip,
        $"the gzip data is corrupt after {compressed.BytesRead} compressed bytes ({BytesRead} decompressed): {e.Message}",
        innerException: e);
}
