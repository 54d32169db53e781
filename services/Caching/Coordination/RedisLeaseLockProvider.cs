using Microservices.Redis;

namespace Microservices.Caching.Coordination;

/// <summary>
/// SET key token NX PX to acquire; release and extend run as Lua scripts that first check the
/// token, so a holder whose lease expired can never release or extend its successor's lock.
/// </summary>
internal sealed class RedisLeaseLockProvider(IRedisClient redis, string keyPrefix) : ILeaseLockProvider
{
    private const string ReleaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('DEL', KEYS[1])
        end
        return 0
        """;

    private const string ExtendScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('PEXPIRE', KEYS[1], ARGV[2])
        end
        return 0
        """;

    public async Task<ILeaseLock?> TryAcquireAsync(string resource, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        if (!redis.IsConnected)
        {
            throw new CoordinationUnavailableException($"Lock '{resource}' is unavailable because Redis is not connected.");
        }

        var token = LeaseToken.New();
        var key = keyPrefix + CacheKeyspace.Lock(resource);
        var acquired = await Guard(
            () => redis.SetAsync(key, System.Text.Encoding.UTF8.GetBytes(token), TimeSpan.FromMilliseconds(LeaseToken.Milliseconds(lease)), SetCondition.IfNotExists, cancellationToken),
            resource).ConfigureAwait(false);
        return acquired ? new Lease(this, resource, key, token) : null;
    }

    private static async Task<T> Guard<T>(Func<Task<T>> call, string resource)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException)
        {
            throw new CoordinationUnavailableException($"Lock '{resource}' is unavailable because Redis is unreachable: {ex.Message}", ex);
        }
    }

    private sealed class Lease(RedisLeaseLockProvider owner, string resource, string key, string token) : ILeaseLock
    {
        private int _released;

        public string Resource { get; } = resource;

        public string Token { get; } = token;

        public async Task<bool> ExtendAsync(TimeSpan lease, CancellationToken cancellationToken = default)
        {
            var reply = await Guard(() => owner.EvalOwned(ExtendScript, key, [Token, LeaseToken.Milliseconds(lease)], cancellationToken), Resource).ConfigureAwait(false);
            return reply.Integer == 1;
        }

        public async Task<bool> ReleaseAsync(CancellationToken cancellationToken = default)
        {
            Interlocked.Exchange(ref _released, 1);
            var reply = await Guard(() => owner.EvalOwned(ReleaseScript, key, [Token], cancellationToken), Resource).ConfigureAwait(false);
            return reply.Integer == 1;
        }

        public async ValueTask DisposeAsync()
        {
            if (Volatile.Read(ref _released) == 0)
            {
                try
                {
                    await ReleaseAsync().ConfigureAwait(false);
                }
                catch (CoordinationUnavailableException)
                {
                    // The lease expires on its own.
                }
            }
        }
    }

    private Task<RedisReply> EvalOwned(string script, string key, object[] args, CancellationToken cancellationToken) =>
        redis.EvalAsync(script, [key], args, cancellationToken);
}
