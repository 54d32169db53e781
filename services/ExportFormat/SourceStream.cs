namespace Microservices.ExportFormat;

/// <summary>
/// The compressed archive as the reader pulls it: counts the bytes (for the compression ratio), and marks
/// the source's own failures, so a dropped connection is not taken for a damaged archive on its way up
/// through GZipStream and TarReader.
/// </summary>
internal sealed class SourceStream(Stream source) : ReadOnlyStream
{
    public long BytesRead { get; private set; }

    public override int Read(Span<byte> buffer)
    {
        int read;
        try
        {
            read = source.Read(buffer);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new SourceReadException(e);
        }

        BytesRead += read;
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read;
        try
        {
            read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new SourceReadException(e);
        }

        BytesRead += read;
        return read;
    }
}

/// <summary>Carries a source stream's exception to <see cref="ArchiveReader"/>, which rethrows the original.</summary>
internal sealed class SourceReadException(Exception inner) : Exception(inner.Message, inner);
