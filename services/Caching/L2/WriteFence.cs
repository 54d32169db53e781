namespace Microservices.Caching.L2;

/// <summary>
/// Keeps a load that read the origin before a write from putting that old value into Redis after
/// the write's invalidation (cache-aside's classic race). Every write through the cache stamps the
/// key's fence (a sibling key) with a new random token; a load reads the fence together with the
/// entry, and its fill lands only if the fence still holds what it read. Each script runs
/// atomically in Redis, so no write can slip between the check and the fill. A prefix-wide flush
/// token plays the same part for a flush of every entry (see RetriedInvalidations).
/// </summary>
internal static class WriteFence
{
    /// <summary>KEYS: entry, fence, flush token. ARGV: fence and flush token as read ("" = none), envelope, expiry ms.</summary>
    public const string FillScript = """
        if (redis.call('GET', KEYS[2]) or '') ~= ARGV[1] or (redis.call('GET', KEYS[3]) or '') ~= ARGV[2] then
          return 0
        end
        redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
        return 1
        """;

    /// <summary>KEYS: entry, fence. ARGV: new token, fence lifetime ms, envelope, expiry ms.</summary>
    public const string ReplaceScript = """
        redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
        redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
        return 1
        """;

    /// <summary>KEYS: entry, fence. ARGV: new token, fence lifetime ms.</summary>
    public const string RemoveScript = """
        redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
        return redis.call('UNLINK', KEYS[1])
        """;

    public static byte[] NewToken() => Guid.NewGuid().ToByteArray();
}
