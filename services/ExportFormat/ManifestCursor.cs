namespace Microservices.ExportFormat;

/// <summary>
/// For the second read of a verified archive: checks that each entry read is exactly the next one the
/// verified manifest lists (then manifest.json and manifest.sig themselves), so nothing is used that
/// was not verified, even if the source changed between the two reads.
/// </summary>
/// <example>
/// <code>
/// var cursor = new ManifestCursor(verified);
/// await using var reader = new ArchiveReader(stream, limits);
/// while (await reader.ReadNextAsync(ct) is { } entry)
/// {
///     using (entry)
///     {
///         cursor.Accept(entry);
///         // use entry.Kind, entry.Data
///     }
/// }
/// cursor.Complete();
/// </code>
/// </example>
public sealed class ManifestCursor(VerifiedArchive archive)
{
    private const string Source = "the verified manifest";

    private int _next;

    private int Total => archive.Manifest.Entries.Count + 2;

    /// <summary>Every entry of the verified archive, manifest and signature included, was accepted.</summary>
    public bool IsComplete => _next == Total;

    /// <exception cref="ArchiveRejectedException">The entry is not the next one verified (name, size or sha256), or there should be none.</exception>
    public void Accept(ArchiveEntryData entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (IsComplete)
        {
            throw new ArchiveRejectedException(
                ArchiveRejection.UnlistedEntry,
                $"entry {EntryNameRules.Quote(entry.Name)} follows {ArchiveLayout.SignatureName}, which it did not when the archive was verified: the archive changed",
                entry.Name);
        }

        ManifestValidation.Match(Expected(_next), new ManifestEntry(entry.Name, entry.Size, entry.Sha256), Source);
        _next++;
    }

    /// <summary>Call at the end of the read.</summary>
    /// <exception cref="ArchiveRejectedException">The archive ended before every verified entry was read: it changed since it was verified.</exception>
    public void Complete()
    {
        if (!IsComplete)
        {
            var expected = Expected(_next);
            throw new ArchiveRejectedException(
                ArchiveRejection.MissingEntry,
                $"the archive ended before entry {EntryNameRules.Quote(expected.Name)}, which it held when it was verified: the archive changed",
                expected.Name);
        }
    }

    private ManifestEntry Expected(int index)
    {
        var entries = archive.Manifest.Entries;
        return index < entries.Count ? entries[index] : index == entries.Count ? archive.ManifestFile : archive.SignatureFile;
    }
}
