using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Microservices.Blob.Gateway;

/// <summary>
/// A signed, expiring right to read one owner's blob over the gateway, carried in the URL (a
/// browser rendering a trace sends no token): <c>o=&lt;owner&gt;&amp;e=&lt;unix-exp&gt;&amp;c=&lt;base64url
/// HMAC-SHA256(key, owner|hash|exp)&gt;</c>, the key being Blob:Gateway:CapabilityKey.
/// </summary>
internal sealed class BlobCapability(byte[] key, TimeProvider time)
{
    /// <summary>
    /// A capability for <paramref name="owner"/>'s blob living at least <paramref name="lifetime"/>,
    /// its expiry rounded up to a whole UTC day so offloading the same trace twice in a day writes
    /// the same bytes (stored traces deduplicate, rendered images cache).
    /// </summary>
    public string Query(string owner, string hash, TimeSpan lifetime)
    {
        var day = TimeSpan.TicksPerDay;
        var expires = time.GetUtcNow().Add(lifetime).UtcTicks;
        return Query(owner, hash, new DateTimeOffset((expires + day - 1) / day * day, TimeSpan.Zero));
    }

    public string Query(string owner, string hash, DateTimeOffset expires)
    {
        var exp = expires.ToUnixTimeSeconds();
        return string.Create(CultureInfo.InvariantCulture, $"o={Uri.EscapeDataString(owner)}&e={exp}&c={Base64Url.EncodeToString(Mac(owner, hash, exp))}");
    }

    /// <summary>The remaining life of a valid capability for <paramref name="hash"/>; null when forged, for another blob, or expired.</summary>
    public TimeSpan? Verify(string owner, string hash, string exp, string mac)
    {
        if (!long.TryParse(exp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || !Base64Url.IsValid(mac) || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            return null;
        }

        var given = Base64Url.DecodeFromChars(mac);
        if (!CryptographicOperations.FixedTimeEquals(given, Mac(owner, hash, seconds)))
        {
            return null;
        }

        var remaining = DateTimeOffset.FromUnixTimeSeconds(seconds) - time.GetUtcNow();
        return remaining > TimeSpan.Zero ? remaining : null;
    }

    private byte[] Mac(string owner, string hash, long exp) =>
        HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{owner}|{hash}|{exp}")));
}
