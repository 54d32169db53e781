namespace Microservices.ExportFormat;

/// <summary>Why an archive was refused (<see cref="ArchiveRejectedException.Reason"/>).</summary>
public enum ArchiveRejection
{
    /// <summary>The gzip layer is damaged.</summary>
    CorruptGzip,

    /// <summary>The archive stops before tar's end-of-archive marker: in an entry, or between two.</summary>
    Truncated,

    /// <summary>The decompressed bytes are not a well-formed tar (bad header checksum, garbage, data after the end marker).</summary>
    NotATar,

    /// <summary>An entry name is not relative, safe, and one of the layout's shapes.</summary>
    UnsafeName,

    /// <summary>A link, device, fifo, directory, PAX global header or other non-regular entry.</summary>
    NotRegularFile,

    DuplicateName,

    /// <summary>An entry the manifest does not list, where it does not list it, or after the manifest.</summary>
    UnlistedEntry,

    /// <summary>An entry the manifest lists (or the manifest or its signature) is not in the archive.</summary>
    MissingEntry,

    HashMismatch,

    SizeMismatch,

    /// <summary>manifest.sig is malformed or does not verify with the key it names.</summary>
    BadSignature,

    /// <summary>The manifest is signed by a key that is not trusted, and a trusted signature is required.</summary>
    UntrustedKey,

    /// <summary>The manifest's format version is newer than this reader.</summary>
    NewerFormat,

    BadManifest,

    /// <summary>An entry, a tar header, or the whole archive is over its cap in <see cref="ArchiveLimits"/>.</summary>
    TooLarge,

    TooManyEntries,

    /// <summary>The archive decompresses to more than <see cref="ArchiveLimits.MaxCompressionRatio"/> times its compressed size.</summary>
    CompressionRatio,
}
