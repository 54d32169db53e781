namespace Microservices.Blob.Index;

/// <summary>
/// Striped async locks by key, for an index only one process uses (SQLite): put-vs-collect of one
/// object, and one collection round at a time.
/// </summary>
internal sealed class InProcessObjectLocks : IObjectLocks
{
    private readonly SemaphoreSlim[] _stripes = Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1)).ToArray();
    private readonly SemaphoreSlim _collector = new(1, 1);

    public async Task<IAsyncDisposable> AcquireAsync(string objectKey, CancellationToken cancellationToken)
    {
        var stripe = _stripes[(int)((uint)StringComparer.Ordinal.GetHashCode(objectKey) % (uint)_stripes.Length)];
        await stripe.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Releaser(stripe);
    }

    public async Task<IAsyncDisposable?> TryAcquireCollectorAsync(CancellationToken cancellationToken) =>
        await _collector.WaitAsync(0, cancellationToken).ConfigureAwait(false) ? new Releaser(_collector) : null;

    private sealed class Releaser(SemaphoreSlim semaphore) : IAsyncDisposable
    {
        private int _released;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                semaphore.Release();
            }

            return ValueTask.CompletedTask;
        }
    }
}
