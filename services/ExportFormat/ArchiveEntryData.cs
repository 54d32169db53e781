using System.Buffers;
using System.Security.Cryptography;

namespace Microservices.ExportFormat;

/// <summary>
/// One entry read whole into a pooled buffer. Dispose it when done: the buffer goes back to the pool
/// and <see cref="Data"/> (and any memory taken from it earlier) must not be used after that.
/// </summary>
public sealed class ArchiveEntryData : IDisposable
{
    private byte[]? _buffer;

    internal ArchiveEntryData(string name, ArchiveEntryKind kind, byte[] buffer, int size)
    {
        Name = name;
        Kind = kind;
        Size = size;
        _buffer = buffer;
        Sha256 = Convert.ToHexStringLower(SHA256.HashData(buffer.AsSpan(0, size)));
    }

    public string Name { get; }

    public ArchiveEntryKind Kind { get; }

    public long Size { get; }

    /// <summary>Lowercase hex sha256 of <see cref="Data"/>, as the manifest writes it.</summary>
    public string Sha256 { get; }

    /// <exception cref="ObjectDisposedException">The entry was disposed.</exception>
    public ReadOnlyMemory<byte> Data => _buffer is { } buffer
        ? buffer.AsMemory(0, (int)Size)
        : throw new ObjectDisposedException(nameof(ArchiveEntryData), $"Entry '{Name}' was disposed; its buffer is back in the pool.");

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is { Length: > 0 })
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
