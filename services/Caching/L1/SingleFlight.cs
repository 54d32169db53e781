namespace Microservices.Caching.L1;

/// <summary>
/// Runs one load per key however many callers ask at once; the others await the same result. The
/// shared load is cancelled only when every caller waiting for it has cancelled.
/// </summary>
internal sealed class SingleFlight<T>
{
    private readonly Dictionary<string, Flight> _flights = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public int InFlight
    {
        get
        {
            lock (_lock)
            {
                return _flights.Count;
            }
        }
    }

    public async Task<T> RunAsync(string key, Func<CancellationToken, Task<T>> load, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Flight flight;
        var owner = false;
        lock (_lock)
        {
            if (!_flights.TryGetValue(key, out flight!) || !flight.TryJoin())
            {
                flight = new Flight();
                flight.TryJoin();
                _flights[key] = flight;
                owner = true;
            }
        }

        if (owner)
        {
            // Observed through flight.Started by every caller, the owner included.
            _ = RunOwnedAsync(key, flight, load);
        }

        try
        {
            return await flight.Started.Task.Unwrap().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            flight.Leave();
            throw;
        }
    }

    private async Task<T> RunOwnedAsync(string key, Flight flight, Func<CancellationToken, Task<T>> load)
    {
        var work = RunLoadAsync(flight, load);
        flight.Started.SetResult(work);
        try
        {
            return await work.ConfigureAwait(false);
        }
        finally
        {
            lock (_lock)
            {
                if (_flights.TryGetValue(key, out var current) && current == flight)
                {
                    _flights.Remove(key);
                }
            }

            flight.Dispose();
        }
    }

    private static async Task<T> RunLoadAsync(Flight flight, Func<CancellationToken, Task<T>> load)
    {
        // Off the first caller's stack, so its cancellation or sync work doesn't shape the others'.
        await Task.Yield();
        return await load(flight.Cancellation.Token).ConfigureAwait(false);
    }

    private sealed class Flight : IDisposable
    {
        private readonly Lock _lock = new();
        private int _waiters;
        private bool _abandoned;

        public CancellationTokenSource Cancellation { get; } = new();

        public TaskCompletionSource<Task<T>> Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool TryJoin()
        {
            lock (_lock)
            {
                if (_abandoned)
                {
                    return false;
                }

                _waiters++;
                return true;
            }
        }

        public void Leave()
        {
            lock (_lock)
            {
                if (--_waiters == 0 && !_abandoned)
                {
                    _abandoned = true;
                    Cancellation.Cancel();
                }
            }
        }

        public void Dispose()
        {
            lock (_lock)
            {
                _abandoned = true;
            }

            Cancellation.Dispose();
        }
    }
}
