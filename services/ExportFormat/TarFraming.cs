using System.Buffers.Binary;

namespace Microservices.ExportFormat;

/// <summary>
/// Follows tar's 512-byte framing through the decompressed bytes and checks every header block before
/// TarReader parses it, for what TarReader does not do: it buffers a PAX extended header or GNU long
/// name whole at whatever size the header claims (up to 2 GB), accepts a PAX global header, and never
/// checks a header's checksum. Here those headers are capped or refused first, garbage fails its
/// checksum as <see cref="ArchiveRejection.NotATar"/>, and an end-of-archive marker must be a real one:
/// TarReader takes any block with a zero checksum field for the end.
/// </summary>
internal sealed class TarFraming(ArchiveLimits limits)
{
    private const int Block = 512;
    private const int ChecksumOffset = 148;
    private const int ChecksumLength = 8;
    private const int SizeOffset = 124;
    private const int SizeLength = 12;
    private const int TypeOffset = 156;

    private readonly byte[] _header = new byte[Block];
    private int _headerFilled;
    private long _position;
    private long _nextHeaderAt;

    /// <summary>An all-zero block stood where a header was due; TarReader stops there.</summary>
    public bool ReachedEnd { get; private set; }

    /// <summary>
    /// The size field of the last header that was not PAX or GNU metadata. A PAX "size" record can
    /// override it for TarReader, which would then read a different span than this framing follows,
    /// so the reader refuses an entry whose length differs.
    /// </summary>
    public long LastEntrySize { get; private set; }

    public void Observe(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            if (ReachedEnd)
            {
                // Tar pads an archive with zero blocks to its record size; anything else after the
                // end marker is outside what the manifest covers.
                if (bytes.ContainsAnyExcept((byte)0))
                {
                    throw NotATar($"there is data after the tar end-of-archive marker at byte offset {_nextHeaderAt - Block}");
                }

                _position += bytes.Length;
                return;
            }

            if (_position < _nextHeaderAt)
            {
                var skipped = (int)Math.Min(_nextHeaderAt - _position, bytes.Length);
                _position += skipped;
                bytes = bytes[skipped..];
                continue;
            }

            var taken = Math.Min(Block - _headerFilled, bytes.Length);
            bytes[..taken].CopyTo(_header.AsSpan(_headerFilled));
            _headerFilled += taken;
            _position += taken;
            bytes = bytes[taken..];
            if (_headerFilled == Block)
            {
                _headerFilled = 0;
                Inspect(_header, _position - Block);
            }
        }
    }

    private void Inspect(ReadOnlySpan<byte> header, long offset)
    {
        _nextHeaderAt = offset + Block;
        if (!header.ContainsAnyExcept((byte)0))
        {
            ReachedEnd = true;
            return;
        }

        if (!ChecksumMatches(header))
        {
            throw NotATar($"the tar header at byte offset {offset} has a wrong checksum: this is not a tar archive, or it is corrupt");
        }

        var size = ParseSize(header[SizeOffset..(SizeOffset + SizeLength)], offset);
        switch ((char)header[TypeOffset])
        {
            case 'g':
                throw new ArchiveRejectedException(
                    ArchiveRejection.NotRegularFile,
                    $"the tar header at byte offset {offset} is a PAX global extended header, which would change every entry after it; only regular files are allowed");
            case 'x' or 'L' or 'K' when size > limits.MaxHeaderBytes:
                throw new ArchiveRejectedException(
                    ArchiveRejection.TooLarge,
                    $"the tar header at byte offset {offset} is a PAX extended header or GNU long name of {size} bytes; at most {limits.MaxHeaderBytes} are allowed (ArchiveLimits.MaxHeaderBytes)");
            case 'x' or 'L' or 'K':
                break;
            default:
                LastEntrySize = size;
                break;
        }

        // A size no cap admits is refused by the reader before its data is read; saturating keeps the
        // arithmetic from overflowing until then.
        _nextHeaderAt += size > limits.MaxTotalBytes ? limits.MaxTotalBytes : (size + Block - 1) / Block * Block;
    }

    private static bool ChecksumMatches(ReadOnlySpan<byte> header)
    {
        if (!TryParseOctal(header[ChecksumOffset..(ChecksumOffset + ChecksumLength)], out var stored))
        {
            return false;
        }

        // The checksum field counts as spaces; old writers summed signed bytes, so either sum is accepted.
        long unsigned = ChecksumLength * ' ';
        long signed = ChecksumLength * ' ';
        for (var i = 0; i < Block; i++)
        {
            if (i is >= ChecksumOffset and < ChecksumOffset + ChecksumLength)
            {
                continue;
            }

            unsigned += header[i];
            signed += (sbyte)header[i];
        }

        return stored == unsigned || stored == signed;
    }

    private long ParseSize(ReadOnlySpan<byte> field, long offset)
    {
        if ((field[0] & 0x80) == 0)
        {
            return TryParseOctal(field, out var octal)
                ? octal
                : throw NotATar($"the tar header at byte offset {offset} has a size field that is not an octal number");
        }

        // Base-256 (GNU, for sizes of 8 GiB and more): 0x80, then a big-endian number. Only what fits a long.
        if (field[0] != 0x80)
        {
            throw NotATar($"the tar header at byte offset {offset} has a negative size");
        }

        var value = BinaryPrimitives.ReadUInt64BigEndian(field[^8..]);
        return field[1..^8].ContainsAnyExcept((byte)0) || value > long.MaxValue
            ? throw new ArchiveRejectedException(ArchiveRejection.TooLarge, $"the tar header at byte offset {offset} claims a size beyond 2^63 bytes")
            : (long)value;
    }

    /// <summary>Octal digits, optionally padded with spaces or NULs on either side (what writers do).</summary>
    private static bool TryParseOctal(ReadOnlySpan<byte> field, out long value)
    {
        value = 0;
        var digits = field.Trim(" \0"u8);
        foreach (var digit in digits)
        {
            if (digit is < (byte)'0' or > (byte)'7')
            {
                return false;
            }

            value = (value * 8) + (digit - '0');
        }

        return true;
    }

    private static ArchiveRejectedException NotATar(string message) => new(ArchiveRejection.NotATar, message);
}
