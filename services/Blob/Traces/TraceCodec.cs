namespace Microservices.Blob.Traces;

/// <summary>
/// What the offloader and the hydrator share: counted output, and passing text that holds no
/// marker straight through a <see cref="ByteWindow"/>.
/// </summary>
internal abstract class TraceCodec
{
    /// <summary>Bytes written to the output so far.</summary>
    protected long OutputBytes { get; private set; }

    /// <summary>
    /// The window holds no marker: emits all of it but a tail that could be the start of a marker
    /// split across reads, then reads more. False once the input is exhausted.
    /// </summary>
    protected async ValueTask<bool> PassUnmatchedAsync(Stream output, ByteWindow window, int markerLength, CancellationToken cancellationToken)
    {
        var keep = window.Eof ? 0 : Math.Min(window.Available, markerLength - 1);
        await EmitAsync(output, window, window.Available - keep, cancellationToken).ConfigureAwait(false);
        if (window.Eof && window.Available == 0)
        {
            return false;
        }

        if (!window.Eof)
        {
            await window.EnsureAsync(window.Available + 1, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    protected async ValueTask EmitAsync(Stream output, ByteWindow window, int count, CancellationToken cancellationToken)
    {
        if (count <= 0)
        {
            return;
        }

        await WriteAsync(output, window.Memory[..count], cancellationToken).ConfigureAwait(false);
        window.Advance(count);
    }

    protected async ValueTask WriteAsync(Stream output, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await output.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        OutputBytes += bytes.Length;
    }
}
