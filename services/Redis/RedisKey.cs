using System.Text;

namespace Microservices.Redis;

/// <summary>
/// A binary-safe key, hash field or channel name. Strings are UTF-8 encoded; byte arrays are taken
/// as they are, so keys may hold any byte including zero.
/// </summary>
public readonly struct RedisKey : IEquatable<RedisKey>
{
    private readonly byte[]? _bytes;

    public RedisKey(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        _bytes = bytes;
    }

    public RedisKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        _bytes = Encoding.UTF8.GetBytes(key);
    }

    public ReadOnlyMemory<byte> Bytes => _bytes ?? [];

    public static implicit operator RedisKey(string key) => new(key);

    public static implicit operator RedisKey(byte[] key) => new(key);

    public RedisKey Prepend(ReadOnlySpan<byte> prefix)
    {
        var bytes = new byte[prefix.Length + Bytes.Length];
        prefix.CopyTo(bytes);
        Bytes.Span.CopyTo(bytes.AsSpan(prefix.Length));
        return new RedisKey(bytes);
    }

    public bool Equals(RedisKey other) => Bytes.Span.SequenceEqual(other.Bytes.Span);

    public override bool Equals(object? obj) => obj is RedisKey other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Bytes.Span);
        return hash.ToHashCode();
    }

    public static bool operator ==(RedisKey left, RedisKey right) => left.Equals(right);

    public static bool operator !=(RedisKey left, RedisKey right) => !left.Equals(right);

    public override string ToString() => Encoding.UTF8.GetString(Bytes.Span);
}
