namespace Microservices.ExportFormat;

/// <summary>
/// What a reader accepts before it refuses an archive as <see cref="ArchiveRejection.TooLarge"/>,
/// <see cref="ArchiveRejection.TooManyEntries"/> or <see cref="ArchiveRejection.CompressionRatio"/>.
/// An archive comes from outside (an upload, a URL), so every size it claims is checked before memory
/// is spent on it.
/// </summary>
public sealed record ArchiveLimits
{
    /// <summary>Decompressed bytes after which the compression ratio is checked; a small archive's headers alone compress far better than data.</summary>
    public const long RatioCheckedAfterBytes = 1024 * 1024;

    public static ArchiveLimits Default { get; } = new();

    /// <summary>Largest entry other than the manifest; entries are read whole into memory. Must be at least <see cref="ArchiveLayout.DataChunkSize"/>.</summary>
    public int MaxEntryBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>Largest manifest.json, which lists every entry and is read whole.</summary>
    public int MaxManifestBytes { get; init; } = 64 * 1024 * 1024;

    /// <summary>Largest PAX extended header or GNU long name, which the tar reader buffers whole before the entry it describes.</summary>
    public int MaxHeaderBytes { get; init; } = 64 * 1024;

    /// <summary>Most decompressed bytes in the archive (headers and padding included).</summary>
    public long MaxTotalBytes { get; init; } = 64L * 1024 * 1024 * 1024;

    /// <summary>Most entries, manifest and signature included.</summary>
    public int MaxEntries { get; init; } = 1_000_000;

    /// <summary>Most decompressed bytes per compressed byte read so far, checked continuously after <see cref="RatioCheckedAfterBytes"/>.</summary>
    public double MaxCompressionRatio { get; init; } = 200;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxEntryBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxManifestBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxHeaderBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxTotalBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxEntries);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxCompressionRatio, 1);
    }
}
