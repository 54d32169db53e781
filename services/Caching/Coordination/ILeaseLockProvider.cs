namespace Microservices.Caching.Coordination;

/// <summary>
/// Mutual exclusion with a lease: the holder owns the resource until it releases it or the lease
/// runs out, whichever is first. Long work must <see cref="ILeaseLock.ExtendAsync"/> before expiry.
/// </summary>
public interface ILeaseLockProvider
{
    /// <summary>Returns the lock, or null when someone else holds it.</summary>
    /// <exception cref="CoordinationUnavailableException">Redis is configured but unreachable.</exception>
    Task<ILeaseLock?> TryAcquireAsync(string resource, TimeSpan lease, CancellationToken cancellationToken = default);
}

/// <summary>A held lease. Disposing releases it (best effort).</summary>
public interface ILeaseLock : IAsyncDisposable
{
    string Resource { get; }

    /// <summary>The random owner token; only its holder can extend or release the lease.</summary>
    string Token { get; }

    /// <summary>Resets the lease to <paramref name="lease"/> from now; false when the lease was already lost.</summary>
    Task<bool> ExtendAsync(TimeSpan lease, CancellationToken cancellationToken = default);

    /// <summary>False when the lease had expired (and perhaps been taken by another holder, which is left alone).</summary>
    Task<bool> ReleaseAsync(CancellationToken cancellationToken = default);
}

/// <summary>Coordination needs Redis to be reachable; unlike the cache it cannot silently degrade.</summary>
public sealed class CoordinationUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
