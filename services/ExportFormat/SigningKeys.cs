using System.Security.Cryptography;

namespace Microservices.ExportFormat;

/// <summary>ECDSA P-256 keys (BCL only) that sign and verify manifests; a key's id is the sha256 of its SubjectPublicKeyInfo.</summary>
public static class SigningKeys
{
    public static string KeyId(ECDsa key) => Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));

    public static string PublicKeyPem(ECDsa key) => key.ExportSubjectPublicKeyInfoPem();

    public static ManifestSignature Sign(ECDsa privateKey, ReadOnlySpan<byte> manifestJson) => new(
        ManifestSignature.EcdsaP256Sha256,
        KeyId(privateKey),
        Convert.ToBase64String(privateKey.SignData(manifestJson, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)));

    /// <summary>A public key from PEM ("PUBLIC KEY"), refusing anything but P-256.</summary>
    /// <exception cref="CryptographicException">Not a P-256 public key.</exception>
    public static ECDsa ImportPublicKeyPem(string pem)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            if (key.KeySize != 256)
            {
                throw new CryptographicException($"The key is ECDSA with {key.KeySize} bits; export signatures use P-256.");
            }

            return key;
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>True when <paramref name="signature"/> is a valid signature of the manifest bytes by <paramref name="publicKey"/>.</summary>
    public static bool Verify(ECDsa publicKey, ReadOnlySpan<byte> manifestJson, ManifestSignature signature)
    {
        if (signature.Algorithm != ManifestSignature.EcdsaP256Sha256 || signature.KeyId != KeyId(publicKey))
        {
            return false;
        }

        Span<byte> raw = stackalloc byte[128];
        return Convert.TryFromBase64String(signature.Signature, raw, out var length)
            && publicKey.VerifyData(manifestJson, raw[..length], HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }
}
