using Microservices.Blob.Digests;

namespace Microservices.Blob.Storage;

/// <summary>
/// Storage keys: <c>sha256/ab/cd/&lt;hex&gt;</c> for shared objects (two levels of 256-way fan-out
/// keep directories small), <c>sha256/ab/cd/&lt;hex&gt;.&lt;owner tag&gt;.enc</c> for a sensitive
/// blob, encrypted per owner. The owner tag is a hash, so no client string reaches a path.
/// </summary>
internal static class StorageKey
{
    public static string Shared(BlobDigest digest) => $"sha256/{digest.Hash[..2]}/{digest.Hash[2..4]}/{digest.Hash}";

    public static string Encrypted(BlobDigest digest, string owner) => $"{Shared(digest)}.{OwnerTag(owner)}.enc";

    public static string OwnerTag(string owner) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(owner)))[..32];

    /// <summary>Defence in depth: a key is [a-z0-9._-] segments, no empty, '.' or '..' segment.</summary>
    public static string Validate(string key)
    {
        var segments = key.Split('/');
        foreach (var segment in segments)
        {
            if (segment.Length == 0 || segment is "." or ".." || segment.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '-' or '_')))
            {
                throw new ArgumentException($"invalid storage key '{key}'", nameof(key));
            }
        }

        return key;
    }
}
