using System.Formats.Tar;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Microservices.ExportFormat;

/// <summary>
/// Writes tar (PAX) entries through gzip into in-memory parts. A part is taken only between
/// entries, and taking it closes the gzip member, so every part ends on an entry and a member
/// boundary: concatenated, the parts are one valid .tar.gz, and after a crash a new writer can
/// continue after the last part that was uploaded. Entries whose bytes do not compress (the blob
/// service stored them uncompressed) go into members at <see cref="CompressionLevel.NoCompression"/>,
/// so incompressible data costs copying, not deflate.
/// </summary>
public sealed class ArchivePartWriter : IDisposable
{
    private readonly ForwardingStream _sink = new();
    private readonly TarWriter _tar;
    private readonly DateTimeOffset _modified;
    private readonly List<ManifestEntry> _entries = [];
    private SegmentedBuffer _part = new();
    private GZipStream? _member;
    private CompressionLevel _memberLevel;

    /// <param name="modified">Every entry's modification time (the export's creation time), so entries do not leak the writer's clock.</param>
    public ArchivePartWriter(DateTimeOffset modified)
    {
        _modified = modified;
        _tar = new TarWriter(_sink, TarEntryFormat.Pax, leaveOpen: true);
    }

    /// <summary>Compressed bytes in the current part so far (deflate may still hold some back).</summary>
    public long PartLength => _part.Length;

    public int PendingEntries => _entries.Count;

    /// <summary>Appends one regular-file entry to the current part.</summary>
    public ManifestEntry WriteEntry(string name, ReadOnlyMemory<byte> data, bool compress)
    {
        SwitchMember(compress ? CompressionLevel.Fastest : CompressionLevel.NoCompression);
        using var content = AsStream(data);
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name)
        {
            DataStream = content,
            ModificationTime = _modified,
            Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
        };
        _tar.WriteEntry(entry);
        var written = new ManifestEntry(name, data.Length, Convert.ToHexStringLower(SHA256.HashData(data.Span)));
        _entries.Add(written);
        return written;
    }

    /// <summary>Closes the current member and hands the part over; the writer goes on into a new part.</summary>
    public ArchivePart TakePart()
    {
        CloseMember();
        var part = new ArchivePart(_part, [.. _entries]);
        _entries.Clear();
        _part = new SegmentedBuffer();
        return part;
    }

    /// <summary>Writes tar's end-of-archive marker and returns the last part (which may hold only that marker).</summary>
    public ArchivePart Finish()
    {
        SwitchMember(CompressionLevel.Fastest);
        _tar.Dispose();
        return TakePart();
    }

    public void Dispose()
    {
        _member?.Dispose();
        _part.Dispose();
    }

    private void SwitchMember(CompressionLevel level)
    {
        if (_member is not null && _memberLevel == level)
        {
            return;
        }

        CloseMember();
        _member = new GZipStream(_part, level, leaveOpen: true);
        _memberLevel = level;
        _sink.Target = _member;
    }

    private void CloseMember()
    {
        _member?.Dispose();
        _member = null;
        _sink.Target = null;
    }

    private static MemoryStream AsStream(ReadOnlyMemory<byte> data) => MemoryMarshal.TryGetArray(data, out var segment)
        ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
        : new MemoryStream(data.ToArray(), writable: false);

    /// <summary>TarWriter keeps one stream for its life; this lets the gzip member behind it change between entries.</summary>
    private sealed class ForwardingStream : Stream
    {
        public Stream? Target { get; set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer) =>
            (Target ?? throw new InvalidOperationException("No gzip member is open.")).Write(buffer);

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
