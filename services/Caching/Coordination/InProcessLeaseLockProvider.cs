namespace Microservices.Caching.Coordination;

/// <summary>The same lease semantics within one process, for the embedded (no Redis) mode.</summary>
internal sealed class InProcessLeaseLockProvider(TimeProvider time) : ILeaseLockProvider
{
    private readonly Dictionary<string, (string Token, long ExpiresAt)> _leases = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public Task<ILeaseLock?> TryAcquireAsync(string resource, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var token = LeaseToken.New();
        lock (_lock)
        {
            if (_leases.TryGetValue(resource, out var held) && held.ExpiresAt > time.GetTimestamp())
            {
                return Task.FromResult<ILeaseLock?>(null);
            }

            _leases[resource] = (token, Deadline(lease));
        }

        return Task.FromResult<ILeaseLock?>(new Lease(this, resource, token));
    }

    private long Deadline(TimeSpan lease) => time.GetTimestamp() + (LeaseToken.Milliseconds(lease) * time.TimestampFrequency / 1000);

    private bool IfOwner(string resource, string token, Action<Dictionary<string, (string Token, long ExpiresAt)>> change)
    {
        lock (_lock)
        {
            if (!_leases.TryGetValue(resource, out var held) || held.Token != token || held.ExpiresAt <= time.GetTimestamp())
            {
                return false;
            }

            change(_leases);
            return true;
        }
    }

    private sealed class Lease(InProcessLeaseLockProvider owner, string resource, string token) : ILeaseLock
    {
        public string Resource { get; } = resource;

        public string Token { get; } = token;

        public Task<bool> ExtendAsync(TimeSpan lease, CancellationToken cancellationToken = default) =>
            Task.FromResult(owner.IfOwner(Resource, Token, leases => leases[Resource] = (Token, owner.Deadline(lease))));

        public Task<bool> ReleaseAsync(CancellationToken cancellationToken = default) =>
            Task.FromResult(owner.IfOwner(Resource, Token, leases => leases.Remove(Resource)));

        public async ValueTask DisposeAsync() => await ReleaseAsync().ConfigureAwait(false);
    }
}
