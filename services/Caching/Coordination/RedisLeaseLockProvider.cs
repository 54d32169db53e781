using Microservices.Caching.L2;
using StackExchange.Redis;

namespace Microservices.Caching.Coordination;

/// <summary>
/// StackExchange.Redis's own lock primitives: LockTake is SET key token NX PX; LockExtend and
/// LockRelease change the key only while it still holds this holder's token, atomically, so a
/// holder whose lease expired can never release or extend its successor's lock. (DistributedLock.Redis
/// was not used: it renews leases in the background, exposes no token and cannot report that a
/// release or an extension found the lease already lost, which this interface promises.)
/// </summary>
internal sealed class RedisLeaseLockProvider(IConnectionMultiplexer redis, string keyPrefix) : ILeaseLockProvider
{
    public async Task<ILeaseLock?> TryAcquireAsync(string resource, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        var token = LeaseToken.New();
        var key = keyPrefix + CacheKeyspace.Lock(resource);
        var acquired = await Guard(db => db.LockTakeAsync(key, token, Duration(lease)), resource, cancellationToken).ConfigureAwait(false);
        return acquired ? new Lease(this, resource, key, token) : null;
    }

    private static TimeSpan Duration(TimeSpan lease) => TimeSpan.FromMilliseconds(LeaseToken.Milliseconds(lease));

    /// <summary>A lock must not be granted (or reported held) by guessing: an unreachable Redis is an error for the caller.</summary>
    private async Task<bool> Guard(Func<IDatabase, Task<bool>> call, string resource, CancellationToken cancellationToken)
    {
        try
        {
            return await call(redis.GetDatabase()).BoundAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException)
        {
            throw new CoordinationUnavailableException($"Lock '{resource}' is unavailable because Redis is unreachable: {ex.Message}", ex);
        }
    }

    private sealed class Lease(RedisLeaseLockProvider owner, string resource, RedisKey key, string token) : ILeaseLock
    {
        private int _released;

        public string Resource { get; } = resource;

        public string Token { get; } = token;

        public Task<bool> ExtendAsync(TimeSpan lease, CancellationToken cancellationToken = default) =>
            owner.Guard(db => db.LockExtendAsync(key, Token, Duration(lease)), Resource, cancellationToken);

        public Task<bool> ReleaseAsync(CancellationToken cancellationToken = default)
        {
            Interlocked.Exchange(ref _released, 1);
            return owner.Guard(db => db.LockReleaseAsync(key, Token), Resource, cancellationToken);
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
}
