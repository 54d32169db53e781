using System.Text.Json;

namespace Microservices.ExportFormat;

/// <summary>The manifest's own rules, and the comparison of what an archive holds with what its manifest lists.</summary>
internal static class ManifestValidation
{
    private const string Manifest = ArchiveLayout.ManifestName;

    /// <summary>Parses manifest.json, refusing a newer format before anything else (its shape may have changed with the version).</summary>
    public static ArchiveManifest Parse(ReadOnlySpan<byte> json)
    {
        var (format, version) = ReadFormat(json);
        if (format != ArchiveLayout.FormatName)
        {
            throw Bad($"{Manifest} has format {(format is null ? "(none)" : $"'{format}'")}; expected '{ArchiveLayout.FormatName}'");
        }

        if (version > ArchiveLayout.FormatVersion)
        {
            throw new ArchiveRejectedException(
                ArchiveRejection.NewerFormat,
                $"the archive is format version {version}, newer than the {ArchiveLayout.FormatVersion} this reader knows: read it with a newer release",
                Manifest);
        }

        if (version is null or < 1)
        {
            throw Bad($"{Manifest} has no valid format_version (a positive integer)");
        }

        ArchiveManifest manifest;
        try
        {
            manifest = ArchiveManifest.Parse(json);
        }
        catch (JsonException e)
        {
            throw Bad($"{Manifest} is not a valid manifest: {e.Message}", e);
        }

        // System.Text.Json lets an explicit null through a non-nullable property.
        if (manifest.ExportId is null || manifest.Owner is null || manifest.Installation is null || manifest.SigningKeyId is null
            || manifest.Counts is null || manifest.Entries is null)
        {
            throw Bad($"{Manifest} has a null where export_id, owner, installation, signing_key_id, counts and entries are required");
        }

        for (var i = 0; i < manifest.Entries.Count; i++)
        {
            if (manifest.Entries[i] is not { Name: not null, Sha256: not null })
            {
                throw Bad($"{Manifest} entry #{i + 1} has no name or sha256");
            }
        }

        return manifest;
    }

    /// <summary>
    /// Checks that <paramref name="read"/> (every entry before the manifest, in archive order) is exactly
    /// what the manifest lists: the same names, in the same order, with the same sizes and hashes.
    /// </summary>
    public static void Compare(ArchiveManifest manifest, IReadOnlyList<ManifestEntry> read)
    {
        var listed = new Dictionary<string, int>(manifest.Entries.Count, StringComparer.Ordinal);
        for (var i = 0; i < manifest.Entries.Count; i++)
        {
            if (!listed.TryAdd(manifest.Entries[i].Name, i))
            {
                throw Bad($"{Manifest} lists {EntryNameRules.Quote(manifest.Entries[i].Name)} twice");
            }
        }

        foreach (var entry in read)
        {
            if (!listed.ContainsKey(entry.Name))
            {
                throw new ArchiveRejectedException(
                    ArchiveRejection.UnlistedEntry,
                    $"entry {EntryNameRules.Quote(entry.Name)} is in the archive but not in {Manifest}",
                    entry.Name);
            }
        }

        if (read.Count < manifest.Entries.Count)
        {
            var held = read.Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
            var missing = manifest.Entries.Where(e => !held.Contains(e.Name)).ToList();
            throw new ArchiveRejectedException(
                ArchiveRejection.MissingEntry,
                $"{Manifest} lists {EntryNameRules.Quote(missing[0].Name)} ({missing[0].Size} bytes), which the archive does not hold" +
                (missing.Count > 1 ? $" (nor {missing.Count - 1} more listed entries)" : string.Empty),
                missing[0].Name);
        }

        for (var i = 0; i < read.Count; i++)
        {
            Match(manifest.Entries[i], read[i], "the manifest");
        }
    }

    /// <summary>Checks one entry read against the one expected at its position.</summary>
    public static void Match(ManifestEntry expected, ManifestEntry read, string source)
    {
        var quoted = EntryNameRules.Quote(read.Name);
        if (read.Name != expected.Name)
        {
            throw new ArchiveRejectedException(
                ArchiveRejection.UnlistedEntry,
                $"entry {quoted} is where {source} lists {EntryNameRules.Quote(expected.Name)}: the entries are out of order",
                read.Name);
        }

        if (read.Size != expected.Size)
        {
            throw new ArchiveRejectedException(
                ArchiveRejection.SizeMismatch,
                $"entry {quoted} is {read.Size} bytes; {source} says {expected.Size}",
                read.Name);
        }

        if (!string.Equals(read.Sha256, expected.Sha256, StringComparison.Ordinal))
        {
            throw new ArchiveRejectedException(
                ArchiveRejection.HashMismatch,
                $"entry {quoted} has sha256 {read.Sha256}; {source} says {EntryNameRules.Quote(expected.Sha256)}",
                read.Name);
        }
    }

    /// <summary>The top-level "format" and "format_version", read without binding the rest.</summary>
    private static (string? Format, int? Version) ReadFormat(ReadOnlySpan<byte> json)
    {
        string? format = null;
        int? version = null;
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw Bad($"{Manifest} is not a JSON object");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isFormat = reader.ValueTextEquals("format"u8);
                var isVersion = reader.ValueTextEquals("format_version"u8);
                reader.Read();
                if (isFormat)
                {
                    format = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                else if (isVersion)
                {
                    version = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var number) ? number : null;
                }
                else
                {
                    reader.Skip();
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // GetString throws InvalidOperationException for a string that is not valid UTF-8.
            throw Bad($"{Manifest} is not valid JSON: {e.Message}", e);
        }

        return (format, version);
    }

    private static ArchiveRejectedException Bad(string message, Exception? inner = null) =>
        new(ArchiveRejection.BadManifest, message, Manifest, inner);
}
