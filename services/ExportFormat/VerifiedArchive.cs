namespace Microservices.ExportFormat;

/// <summary>What <see cref="ArchiveVerifier"/> established about an archive; a second read checks against it with <see cref="ManifestCursor"/>.</summary>
public sealed class VerifiedArchive
{
    internal VerifiedArchive(
        ArchiveManifest manifest,
        bool signatureVerified,
        string signingKeyId,
        long compressedBytes,
        long uncompressedBytes,
        ManifestEntry manifestFile,
        ManifestEntry signatureFile)
    {
        Manifest = manifest;
        SignatureVerified = signatureVerified;
        SigningKeyId = signingKeyId;
        CompressedBytes = compressedBytes;
        UncompressedBytes = uncompressedBytes;
        ManifestFile = manifestFile;
        SignatureFile = signatureFile;
    }

    public ArchiveManifest Manifest { get; }

    /// <summary>True when a trusted key verified the signature; false when the key was unknown and no signature was required.</summary>
    public bool SignatureVerified { get; }

    /// <summary>The key id manifest.sig names (verified or not, see <see cref="SignatureVerified"/>).</summary>
    public string SigningKeyId { get; }

    public long CompressedBytes { get; }

    public long UncompressedBytes { get; }

    /// <summary>Lowercase hex sha256 of manifest.json's bytes, the bytes that are signed.</summary>
    public string ManifestSha256 => ManifestFile.Sha256;

    internal ManifestEntry ManifestFile { get; }

    internal ManifestEntry SignatureFile { get; }
}
