using System.Security.Cryptography;
using System.Text.Json;

namespace Microservices.ExportFormat;

/// <summary>manifest.sig's rules: well formed, naming the key the manifest names, and valid for it if that key is trusted.</summary>
internal static class SignatureValidation
{
    private const string Signature = ArchiveLayout.SignatureName;
    private const int P1363Length = 64;

    /// <returns>Whether a trusted key verified the signature, and the key id it names.</returns>
    public static (bool Verified, string KeyId) Check(
        ArchiveManifest manifest,
        ReadOnlySpan<byte> manifestJson,
        ReadOnlySpan<byte> signatureJson,
        IReadOnlyCollection<ECDsa> trustedKeys,
        bool requireSignature)
    {
        ManifestSignature signature;
        try
        {
            signature = ManifestSignature.Parse(signatureJson);
        }
        catch (JsonException e)
        {
            throw Bad($"{Signature} is not a signature record: {e.Message}", e);
        }

        if (signature is not { Algorithm: not null, KeyId: not null, Signature: not null })
        {
            throw Bad($"{Signature} needs algorithm, key_id and signature");
        }

        if (signature.Algorithm != ManifestSignature.EcdsaP256Sha256)
        {
            throw Bad($"{Signature} uses algorithm {EntryNameRules.Quote(signature.Algorithm)}; only {ManifestSignature.EcdsaP256Sha256} is supported");
        }

        Span<byte> raw = stackalloc byte[P1363Length];
        if (!Convert.TryFromBase64String(signature.Signature, raw, out var length) || length != P1363Length)
        {
            throw Bad($"{Signature} is malformed: its signature is not base64 of a {P1363Length}-byte ECDSA P-256 signature");
        }

        if (signature.KeyId != manifest.SigningKeyId)
        {
            throw Bad($"{Signature} names key {EntryNameRules.Quote(signature.KeyId)}, but the manifest says it was signed by {EntryNameRules.Quote(manifest.SigningKeyId)}");
        }

        var key = trustedKeys.FirstOrDefault(k => SigningKeys.KeyId(k) == signature.KeyId);
        if (key is null)
        {
            return requireSignature
                ? throw new ArchiveRejectedException(
                    ArchiveRejection.UntrustedKey,
                    $"the manifest is signed by key {signature.KeyId}, which is not one of the {trustedKeys.Count} trusted keys: add the signing installation's public key to trust it",
                    Signature)
                : (false, signature.KeyId);
        }

        return SigningKeys.Verify(key, manifestJson, signature)
            ? (true, signature.KeyId)
            : throw Bad($"the signature in {Signature} does not verify with key {signature.KeyId}: {ArchiveLayout.ManifestName} or its signature was changed after signing");
    }

    private static ArchiveRejectedException Bad(string message, Exception? inner = null) =>
        new(ArchiveRejection.BadSignature, message, Signature, inner);
}
