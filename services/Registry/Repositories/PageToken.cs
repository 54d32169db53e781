using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microservices.Registry.Models;

namespace Microservices.Registry.Repositories;

/// <summary>
/// Keyset paging: a token carries the last row's sort key and id, plus a fingerprint of the
/// query so a token can't be replayed against different filters. Opaque to clients.
/// </summary>
internal sealed record PageToken(long? SortValue, string LastModelId, string Fingerprint)
{
    public string Encode()
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(new Wire(SortValue, LastModelId, Fingerprint));
        return Convert.ToBase64String(json).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public static PageToken Decode(string token, string expectedFingerprint)
    {
        Wire? wire;
        try
        {
            var base64 = token.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
            wire = JsonSerializer.Deserialize<Wire>(Convert.FromBase64String(base64));
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            throw RegistryException.InvalidArgument("page_token", "is not a token this service issued");
        }

        if (wire?.I is null || wire.F is null)
        {
            throw RegistryException.InvalidArgument("page_token", "is not a token this service issued");
        }

        if (wire.F != expectedFingerprint)
        {
            throw RegistryException.InvalidArgument("page_token", "belongs to a List call with other filters or order; pass the same ones");
        }

        return new PageToken(wire.S, wire.I, wire.F);
    }

    public static string FingerprintOf(string owner, ModelQuery query)
    {
        var text = string.Join('\u001f', owner, query.SourceType, query.Status, query.AuthorRepo, query.Prefix, query.TagKey, query.TagValue, query.OrderBy, query.Descending);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)), 0, 8);
    }

    private sealed record Wire(long? S, string? I, string? F);
}
