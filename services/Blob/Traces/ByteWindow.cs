namespace Microservices.Blob.Traces;

/// <summary>
/// A bounded read-ahead window over a stream: the scanners look at most a few hundred bytes ahead,
/// so a trace of any size (and a base64 line of any length) passes through a fixed buffer.
/// </summary>
internal sealed class ByteWindow(Stream input, int capacity = 256 * 1024)
{
    private readonly byte[] _buffer = new byte[capacity];
    private int _start;
    private int _end;

    public bool Eof { get; private set; }

    /// <summary>Input bytes consumed before the window's first byte.</summary>
    public long Position { get; private set; }

    public int Available => _end - _start;

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(_start, _end - _start);

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(_start, _end - _start);

    public void Advance(int count)
    {
        _start += count;
        Position += count;
    }

    /// <summary>Reads until at least <paramref name="count"/> bytes are available or the input ends.</summary>
    public async ValueTask<bool> EnsureAsync(int count, CancellationToken cancellationToken)
    {
        while (Available < count && !Eof)
        {
            if (_start > 0 && (_buffer.Length - _end < _buffer.Length / 2 || _start == _end))
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            // Full: nothing more fits. Reading into no room would return 0, which is not the end of the input.
            if (_end == _buffer.Length)
            {
                break;
            }

            var read = await input.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                Eof = true;
            }

            _end += read;
        }

        return Available >= count;
    }

    /// <summary>Reads more if the window is empty; false at the end of the input.</summary>
    public ValueTask<bool> FillAsync(CancellationToken cancellationToken) => EnsureAsync(Math.Max(1, Available + 1), cancellationToken);
}
