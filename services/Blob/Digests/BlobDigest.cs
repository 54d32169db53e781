using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Microservices.Blob.Digests;

/// <summary>
/// A content address: lowercase hex sha256 of the original bytes plus their size. Validated on
/// construction so a digest that exists is always well-formed (and safe inside a storage path).
/// </summary>
internal readonly record struct BlobDigest
{
    public const int HexLength = 64;

    private static readonly SearchValues<char> LowerHex = SearchValues.Create("0123456789abcdef");

    [System.Text.Json.Serialization.JsonConstructor]
    public BlobDigest(string hash, long size)
    {
        if (!IsValidHash(hash))
        {
            throw new FormatException($"digest hash must be exactly {HexLength} lowercase hex characters [0-9a-f], got '{Shorten(hash)}'");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(size);
        Hash = hash;
        Size = size;
    }

    public string Hash { get; }

    public long Size { get; }

    public static bool IsValidHash([NotNullWhen(true)] string? hash) =>
        hash is { Length: HexLength } && !hash.AsSpan().ContainsAnyExcept(LowerHex);

    public static BlobDigest Of(ReadOnlySpan<byte> data) => new(Convert.ToHexStringLower(SHA256.HashData(data)), data.Length);

    public static BlobDigest FromHashBytes(ReadOnlySpan<byte> sha256, long size) => new(Convert.ToHexStringLower(sha256), size);

    public override string ToString() => $"{Hash}/{Size}";

    internal static string Shorten(string? value) =>
        value is null ? "" : value.Length <= 80 ? value : string.Concat(value.AsSpan(0, 77), "...");
}
