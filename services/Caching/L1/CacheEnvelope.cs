using System.Buffers.Binary;

namespace Microservices.Caching.L1;

/// <summary>
/// What the cache stores in Redis: an 8-byte absolute expiry (Unix ms) before the payload, so a
/// replica that reads the entry from Redis never keeps it in L1 past its Redis lifetime.
/// </summary>
internal static class CacheEnvelope
{
    public const int HeaderLength = 8;

    public static byte[] Wrap(ReadOnlySpan<byte> payload, DateTimeOffset expiresAt)
    {
        var bytes = new byte[HeaderLength + payload.Length];
        BinaryPrimitives.WriteInt64BigEndian(bytes, expiresAt.ToUnixTimeMilliseconds());
        payload.CopyTo(bytes.AsSpan(HeaderLength));
        return bytes;
    }

    /// <summary>False for values not written by this cache (too short); they are treated as misses.</summary>
    public static bool TryUnwrap(byte[] stored, out byte[] payload, out DateTimeOffset expiresAt)
    {
        if (stored.Length < HeaderLength)
        {
            payload = [];
            expiresAt = default;
            return false;
        }

        expiresAt = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64BigEndian(stored));
        payload = stored[HeaderLength..];
        return true;
    }
}
