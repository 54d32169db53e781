using System.Security.Cryptography;

namespace Microservices.ExportFormat;

/// <summary>
/// The first of an import's two reads (and the CLI's offline verify): reads every entry through
/// <see cref="ArchiveReader"/> and proves the archive is whole and as signed. The manifest comes last,
/// so what is kept per entry until then is its name, size and sha256, never its bytes.
/// </summary>
public static class ArchiveVerifier
{
    /// <param name="archive">The compressed archive; read to its end, not disposed.</param>
    /// <param name="trustedKeys">Public keys whose signatures are accepted (<see cref="SigningKeys.ImportPublicKeyPem"/>).</param>
    /// <param name="requireSignature">
    /// When true, a manifest signed by a key not in <paramref name="trustedKeys"/> is refused
    /// (<see cref="ArchiveRejection.UntrustedKey"/>); when false it is accepted with
    /// <see cref="VerifiedArchive.SignatureVerified"/> false. A signature that does not verify with a
    /// trusted key it names is refused either way.
    /// </param>
    /// <exception cref="ArchiveRejectedException">The archive breaks a rule of the format.</exception>
    public static async Task<VerifiedArchive> VerifyAsync(
        Stream archive,
        IReadOnlyCollection<ECDsa> trustedKeys,
        bool requireSignature,
        ArchiveLimits limits,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(trustedKeys);
        var reader = new ArchiveReader(archive, limits, leaveOpen: true);
        await using (reader.ConfigureAwait(false))
        {
            var read = new List<ManifestEntry>();
            ArchiveEntryData? manifestData = null;
            ArchiveManifest? manifest = null;
            ManifestEntry? signatureFile = null;
            var signature = (Verified: false, KeyId: string.Empty);
            try
            {
                while (await reader.ReadNextAsync(cancellationToken).ConfigureAwait(false) is { } entry)
                {
                    if (signatureFile is not null)
                    {
                        entry.Dispose();
                        throw OutOfPlace(entry, $"comes after {ArchiveLayout.SignatureName}; nothing may follow the signature");
                    }

                    if (entry.Kind == ArchiveEntryKind.Manifest)
                    {
                        // Kept (not copied) until the signature over its bytes is checked.
                        manifestData = entry;
                        manifest = ManifestValidation.Parse(entry.Data.Span);
                        continue;
                    }

                    using (entry)
                    {
                        if (entry.Kind == ArchiveEntryKind.Signature)
                        {
                            if (manifest is null || manifestData is null)
                            {
                                throw OutOfPlace(entry, $"comes before {ArchiveLayout.ManifestName}; it must directly follow it");
                            }

                            signature = SignatureValidation.Check(manifest, manifestData.Data.Span, entry.Data.Span, trustedKeys, requireSignature);
                            signatureFile = Listing(entry);
                        }
                        else if (manifest is not null)
                        {
                            throw OutOfPlace(entry, $"comes after {ArchiveLayout.ManifestName}; only {ArchiveLayout.SignatureName} may follow it");
                        }
                        else
                        {
                            read.Add(Listing(entry));
                        }
                    }
                }

                if (manifest is null || manifestData is null)
                {
                    throw Missing(ArchiveLayout.ManifestName, $"the archive has no {ArchiveLayout.ManifestName}");
                }

                if (signatureFile is null)
                {
                    throw Missing(ArchiveLayout.SignatureName, $"the archive has no {ArchiveLayout.SignatureName} after {ArchiveLayout.ManifestName}: it is not signed");
                }

                ManifestValidation.Compare(manifest, read);
                return new VerifiedArchive(
                    manifest, signature.Verified, signature.KeyId, reader.CompressedBytes, reader.UncompressedBytes, Listing(manifestData), signatureFile);
            }
            finally
            {
                manifestData?.Dispose();
            }
        }
    }

    private static ManifestEntry Listing(ArchiveEntryData entry) => new(entry.Name, entry.Size, entry.Sha256);

    private static ArchiveRejectedException OutOfPlace(ArchiveEntryData entry, string rule) =>
        new(ArchiveRejection.UnlistedEntry, $"entry {EntryNameRules.Quote(entry.Name)} {rule}", entry.Name);

    private static ArchiveRejectedException Missing(string name, string message) => new(ArchiveRejection.MissingEntry, message, name);
}
