using System.Text.Json;

namespace Microservices.ExportFormat;

/// <summary>The content of <see cref="ArchiveLayout.SignatureName"/>: which key signed the manifest, and the signature.</summary>
/// <param name="Signature">Base64 of the IEEE P1363 (r || s) ECDSA P-256 signature over SHA-256 of manifest.json's bytes.</param>
public sealed record ManifestSignature(string Algorithm, string KeyId, string Signature)
{
    public const string EcdsaP256Sha256 = "ECDSA_P256_SHA256";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public byte[] ToJsonBytes() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <exception cref="JsonException">Not a signature record.</exception>
    public static ManifestSignature Parse(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<ManifestSignature>(json, Json) ?? throw new JsonException("The signature record is null.");
}
