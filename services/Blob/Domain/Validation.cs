using Microservices.Blob.Digests;
using Microservices.Hosting.Security;

namespace Microservices.Blob.Domain;

/// <summary>Input rules shared by every entry point (gRPC, gateway, trace offload).</summary>
internal static class Validation
{
    public const int MaxIdLength = 256;

    public static string Owner(string? owner)
    {
        if (string.IsNullOrEmpty(owner))
        {
            throw new BlobException(BlobErrorKind.Unauthenticated, "the caller has no owner (the token's subject is empty)");
        }

        if (!OwnerNames.IsValid(owner))
        {
            throw new BlobException(BlobErrorKind.Unauthenticated, $"an owner (the token's subject) must be {OwnerNames.Rule}");
        }

        return owner;
    }

    public static BlobDigest Digest(string? hash, long size, string field = "digest")
    {
        if (!BlobDigest.IsValidHash(hash))
        {
            throw BlobException.Invalid($"{field}.hash must be exactly 64 lowercase hex characters [0-9a-f] (sha256), got '{BlobDigest.Shorten(hash)}'");
        }

        if (size < 0)
        {
            throw BlobException.Invalid($"{field}.size_bytes must not be negative, got {size}");
        }

        return new BlobDigest(hash, size);
    }

    /// <summary>Trace and event ids: printable, bounded; they are only ever data, never paths.</summary>
    public static string Id(string? value, string field)
    {
        if (string.IsNullOrEmpty(value) || value.Length > MaxIdLength || value.Any(char.IsControl))
        {
            throw BlobException.Invalid($"{field} must be 1..{MaxIdLength} characters without control characters");
        }

        return value;
    }

    public static string UploadId(string? value)
    {
        if (value is not { Length: 32 } || value.Any(c => !(char.IsAsciiDigit(c) || c is >= 'a' and <= 'f')))
        {
            throw BlobException.Invalid($"upload_id must be the 32 lowercase hex characters StartUpload returned, got '{BlobDigest.Shorten(value)}'");
        }

        return value;
    }

    public static IReadOnlyDictionary<string, string> Labels(IReadOnlyDictionary<string, string> labels)
    {
        if (labels.Count > 32)
        {
            throw BlobException.Invalid($"labels: at most 32 entries, got {labels.Count}");
        }

        foreach (var (key, value) in labels)
        {
            if (key.Length is 0 or > 64 || value.Length > 256 || key.Any(char.IsControl) || value.Any(char.IsControl))
            {
                throw BlobException.Invalid($"labels: key '{BlobDigest.Shorten(key)}' must be 1..64 characters and its value at most 256, without control characters");
            }
        }

        return labels;
    }
}
