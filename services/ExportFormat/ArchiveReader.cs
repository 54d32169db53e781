using System.Buffers;
using System.Formats.Tar;
using System.IO.Compression;
using System.Runtime.ExceptionServices;

namespace Microservices.ExportFormat;

/// <summary>
/// Reads an export archive (tar through one or more concatenated gzip members) from a forward-only
/// stream, one entry at a time, each whole in memory and checked before any of its data is read: a
/// regular file, a safe name of the layout's, not seen before, within <see cref="ArchiveLimits"/>.
/// It never extracts to a filesystem. It does not know the manifest: <see cref="ArchiveVerifier"/>
/// checks entries against it, and <see cref="ManifestCursor"/> checks a second read against the first.
/// Any rule broken throws <see cref="ArchiveRejectedException"/>; a failure of the source stream itself
/// is rethrown as it came. Not thread-safe.
/// </summary>
public sealed class ArchiveReader : IAsyncDisposable
{
    private const int DrainBufferSize = 64 * 1024;

    private readonly Stream _archive;
    private readonly bool _leaveOpen;
    private readonly ArchiveLimits _limits;
    private readonly SourceStream _source;
    private readonly GZipStream _gzip;
    private readonly DecompressedStream _tarBytes;
    private readonly TarReader _tar;
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private State _state;
    private string? _lastName;

    /// <param name="archive">The compressed archive, read forward only.</param>
    /// <param name="leaveOpen">Whether <paramref name="archive"/> stays open when the reader is disposed.</param>
    public ArchiveReader(Stream archive, ArchiveLimits limits, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(archive);
        ArgumentNullException.ThrowIfNull(limits);
        limits.Validate();
        _archive = archive;
        _leaveOpen = leaveOpen;
        _limits = limits;
        _source = new SourceStream(archive);
        _gzip = new GZipStream(_source, CompressionMode.Decompress, leaveOpen: true);
        _tarBytes = new DecompressedStream(_gzip, _source, limits);
        _tar = new TarReader(_tarBytes, leaveOpen: true);
    }

    private enum State
    {
        Reading,
        Ended,
        Failed,
        Disposed,
    }

    /// <summary>Compressed bytes read from the source so far.</summary>
    public long CompressedBytes => _source.BytesRead;

    /// <summary>Decompressed (tar) bytes read so far, headers and padding included.</summary>
    public long UncompressedBytes => _tarBytes.BytesRead;

    public int EntriesRead => _names.Count;

    /// <summary>
    /// The next entry, or null after the last one once the end-of-archive marker and what follows it
    /// (zero padding only) were read.
    /// </summary>
    /// <exception cref="ArchiveRejectedException">The archive breaks a rule; the reader cannot go on after it.</exception>
    public async ValueTask<ArchiveEntryData?> ReadNextAsync(CancellationToken cancellationToken = default)
    {
        switch (_state)
        {
            case State.Ended:
                return null;
            case State.Failed:
                throw new InvalidOperationException("An earlier read of this archive failed; the reader cannot go on.");
            case State.Disposed:
                throw new ObjectDisposedException(nameof(ArchiveReader));
        }

        // Failed until this read succeeds: whatever threw left TarReader mid-entry.
        _state = State.Failed;
        ArchiveEntryData? entry;
        try
        {
            entry = await ReadNextCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (SourceReadException e)
        {
            ExceptionDispatchInfo.Throw(e.InnerException!);
            throw;
        }
        catch (Exception e) when (e is not (ArchiveRejectedException or OperationCanceledException))
        {
            // TarReader reports a malformed header with whatever the parse hit (InvalidDataException,
            // FormatException, ArgumentOutOfRangeException, OverflowException, NotSupportedException...).
            throw e is EndOfStreamException ? Truncated(e) : new ArchiveRejectedException(
                ArchiveRejection.NotATar,
                $"the tar data {After()} is not a valid tar header: {e.Message}",
                innerException: e);
        }

        _state = entry is null ? State.Ended : State.Reading;
        return entry;
    }

    public async ValueTask DisposeAsync()
    {
        if (_state == State.Disposed)
        {
            return;
        }

        _state = State.Disposed;
        await _tar.DisposeAsync().ConfigureAwait(false);
        await _gzip.DisposeAsync().ConfigureAwait(false);
        if (!_leaveOpen)
        {
            await _archive.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<ArchiveEntryData?> ReadNextCoreAsync(CancellationToken cancellationToken)
    {
        var entry = await _tar.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false);
        if (entry is null)
        {
            await DrainAsync(cancellationToken).ConfigureAwait(false);
            return null;
        }

        var name = entry.Name;
        var quoted = EntryNameRules.Quote(name);
        if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
        {
            throw new ArchiveRejectedException(
                ArchiveRejection.NotRegularFile,
                $"entry {quoted} is {Describe(entry.EntryType)}; only regular files are allowed",
                name);
        }

        if (EntryNameRules.Problem(name) is { } problem)
        {
            throw new ArchiveRejectedException(ArchiveRejection.UnsafeName, $"entry {quoted} has an unsafe name: {problem}", name);
        }

        if (_names.Count == _limits.MaxEntries)
        {
            throw new ArchiveRejectedException(
                ArchiveRejection.TooManyEntries,
                $"entry {quoted} is one more than the {_limits.MaxEntries} entries allowed (ArchiveLimits.MaxEntries)",
                name);
        }

        if (!_names.Add(name))
        {
            throw new ArchiveRejectedException(ArchiveRejection.DuplicateName, $"entry {quoted} appears twice in the archive", name);
        }

        if (entry.Length != _tarBytes.Framing.LastEntrySize)
        {
            throw new ArchiveRejectedException(
                ArchiveRejection.NotATar,
                $"entry {quoted} has a PAX size of {entry.Length} bytes but a tar header size of {_tarBytes.Framing.LastEntrySize}; they must agree",
                name);
        }

        var kind = ArchiveLayout.KindOf(name)!.Value;
        var (cap, capName) = kind == ArchiveEntryKind.Manifest
            ? (_limits.MaxManifestBytes, nameof(ArchiveLimits.MaxManifestBytes))
            : (_limits.MaxEntryBytes, nameof(ArchiveLimits.MaxEntryBytes));
        if (entry.Length > cap)
        {
            throw new ArchiveRejectedException(
                ArchiveRejection.TooLarge,
                $"entry {quoted} is {entry.Length} bytes; at most {cap} are allowed (ArchiveLimits.{capName})",
                name);
        }

        _lastName = name;
        return await ReadDataAsync(entry, name, kind, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<ArchiveEntryData> ReadDataAsync(TarEntry entry, string name, ArchiveEntryKind kind, CancellationToken cancellationToken)
    {
        var size = (int)entry.Length;
        if (size == 0 || entry.DataStream is not { } data)
        {
            return new ArchiveEntryData(name, kind, [], 0);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var read = await data.ReadAtLeastAsync(buffer.AsMemory(0, size), size, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (read < size)
            {
                throw new ArchiveRejectedException(
                    ArchiveRejection.Truncated,
                    $"the archive ends inside entry {EntryNameRules.Quote(name)}, after {read} of its {size} bytes: it is truncated",
                    name);
            }

            return new ArchiveEntryData(name, kind, buffer, size);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>Reads what follows the end-of-archive marker, which <see cref="TarFraming"/> allows to be zeros only.</summary>
    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        if (!_tarBytes.Framing.ReachedEnd)
        {
            throw new ArchiveRejectedException(ArchiveRejection.NotATar, $"the tar data {After()} ends without an end-of-archive marker");
        }

        var buffer = ArrayPool<byte>.Shared.Rent(DrainBufferSize);
        try
        {
            while (await _tarBytes.ReadAsync(buffer, cancellationToken).ConfigureAwait(false) > 0)
            {
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private ArchiveRejectedException Truncated(Exception e) => new(
        ArchiveRejection.Truncated,
        $"the archive ends {After()} without tar's end-of-archive marker: it is truncated",
        innerException: e);

    private string After() => _lastName is null
        ? $"at byte {_tarBytes.BytesRead}, before its first entry,"
        : $"at byte {_tarBytes.BytesRead}, after entry {EntryNameRules.Quote(_lastName)},";

    private static string Describe(TarEntryType type) => type switch
    {
        TarEntryType.SymbolicLink => "a symbolic link",
        TarEntryType.HardLink => "a hard link",
        TarEntryType.CharacterDevice => "a character device",
        TarEntryType.BlockDevice => "a block device",
        TarEntryType.Fifo => "a fifo",
        TarEntryType.Directory => "a directory",
        TarEntryType.GlobalExtendedAttributes => "a PAX global extended header",
        _ => $"of tar type '{(char)type}' ({type})",
    };
}
