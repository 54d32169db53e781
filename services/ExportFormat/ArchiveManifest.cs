using System.Text.Json;
using System.Text.Json.Serialization;

namespace Microservices.ExportFormat;

/// <summary>The archive's table of contents: who, where from, when, what, and the sha256 of every entry.</summary>
public sealed record ArchiveManifest
{
    public string Format { get; init; } = ArchiveLayout.FormatName;

    public int FormatVersion { get; init; } = ArchiveLayout.FormatVersion;

    public required string ExportId { get; init; }

    public required string Owner { get; init; }

    public required string Installation { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required string SigningKeyId { get; init; }

    public required ArchiveCounts Counts { get; init; }

    /// <summary>Every entry before the manifest, in archive order.</summary>
    public required IReadOnlyList<ManifestEntry> Entries { get; init; }

    /// <summary>
    /// Digests of blobs the metadata lists but whose bytes are not in the archive: they were deleted
    /// while the export ran. Said here rather than skipped silently; an import leaves them out.
    /// </summary>
    public IReadOnlyList<string> MissingBlobs { get; init; } = [];

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>The bytes that are signed and stored as <see cref="ArchiveLayout.ManifestName"/>.</summary>
    public byte[] ToJsonBytes() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <exception cref="JsonException">Not a manifest.</exception>
    public static ArchiveManifest Parse(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<ArchiveManifest>(json, Json) ?? throw new JsonException("The manifest is null.");
}

public sealed record ArchiveCounts(long Models, long Blobs, long References, long BlobBytes);

/// <param name="Sha256">Lowercase hex sha256 of the entry's bytes.</param>
public sealed record ManifestEntry(string Name, long Size, string Sha256);
