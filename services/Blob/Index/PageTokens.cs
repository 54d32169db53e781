using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microservices.Blob.Digests;

namespace Microservices.Blob.Index;

/// <summary>
/// Opaque page tokens: base64 of a JSON array of the list's kind, a tag of the owner and the last
/// key of the page. Kind and owner tag make a token of another list or another owner a refusal
/// instead of a silent position in this one. Not a secret: a forged token can only move the
/// caller's own listing, which is always scoped to the caller's owner.
/// </summary>
internal static class PageTokens
{
    private const string BlobsKind = "blobs";
    private const string ReferencesKind = "refs";

    public static string Blobs(string owner, string lastHash) => Encode([BlobsKind, OwnerTag(owner), lastHash]);

    /// <summary>The last hash of the previous page, or null for the first page.</summary>
    public static string? ReadBlobs(string owner, string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        var parts = Decode(token, BlobsKind, owner, 1);
        return BlobDigest.IsValidHash(parts[0]) ? parts[0] : throw Foreign();
    }

    public static string References(string owner, string traceId, string eventId, string hash) =>
        Encode([ReferencesKind, OwnerTag(owner), traceId, eventId, hash]);

    public static (string TraceId, string EventId, string Hash)? ReadReferences(string owner, string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        var parts = Decode(token, ReferencesKind, owner, 3);
        return (parts[0], parts[1], parts[2]);
    }

    /// <summary>What a token that is not this call's becomes; the domain turns it into INVALID_ARGUMENT.</summary>
    public static FormatException Foreign() => new("page_token is not a token this call returned (start again with an empty page_token)");

    private static string Encode(string[] parts) => Convert.ToBase64String(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(parts)));

    private static string[] Decode(string token, string kind, string owner, int keys)
    {
        string[]? parts;
        try
        {
            parts = JsonSerializer.Deserialize<string[]>(Encoding.UTF8.GetString(Convert.FromBase64String(token)));
        }
        catch (Exception error) when (error is FormatException or JsonException)
        {
            throw Foreign();
        }

        if (parts is null || parts.Length != keys + 2 || parts[0] != kind || parts[1] != OwnerTag(owner) || parts.Any(p => p is null))
        {
            throw Foreign();
        }

        return parts[2..];
    }

    private static string OwnerTag(string owner) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(owner)).AsSpan(0, 8));
}
