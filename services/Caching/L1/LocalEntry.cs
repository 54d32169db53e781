namespace Microservices.Caching.L1;

/// <summary>
/// One L1 entry. Besides the bytes it keeps the value a caller decoded from them the first time,
/// so a hit through <see cref="ITwoLevelCache.GetOrCreateAsync{T}"/> neither copies nor decodes.
/// The entry is replaced, never changed, when the key is written or invalidated, so the memo can
/// never outlive the bytes it came from.
/// </summary>
internal sealed class LocalEntry(string key, byte[] value, long expiresAt, long size)
{
    private object? _decoded;

    public string Key { get; } = key;

    public byte[] Value { get; } = value;

    public long ExpiresAt { get; } = expiresAt;

    public long Size { get; } = size;

    public T Decoded<T>(Func<byte[], T> decode)
        where T : class
    {
        if (Volatile.Read(ref _decoded) is T known)
        {
            return known;
        }

        // Two first readers may both decode; either result is the same value.
        var decoded = decode(Value);
        Volatile.Write(ref _decoded, decoded);
        return decoded;
    }
}
