namespace Microservices.Caching.Coordination;

/// <summary>Per-process windows: the embedded mode, and the fallback while Redis is unreachable.</summary>
internal sealed class InProcessFixedWindowRateLimiter(TimeProvider time) : IFixedWindowRateLimiter
{
    private readonly Dictionary<string, (long Count, long ResetsAt)> _windows = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public Task<RateLimitDecision> TryAcquireAsync(string key, int limit, TimeSpan window, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var now = time.GetTimestamp();
        lock (_lock)
        {
            if (!_windows.TryGetValue(key, out var current) || current.ResetsAt <= now)
            {
                current = (0, now + (LeaseToken.Milliseconds(window) * time.TimestampFrequency / 1000));
                if (_windows.Count > 100_000)
                {
                    // Drop expired windows so abandoned keys can't grow the map forever.
                    foreach (var stale in _windows.Where(w => w.Value.ResetsAt <= now).Select(w => w.Key).ToList())
                    {
                        _windows.Remove(stale);
                    }
                }
            }

            current.Count++;
            _windows[key] = current;
            var retryAfter = TimeSpan.FromSeconds((double)(current.ResetsAt - now) / time.TimestampFrequency);
            return Task.FromResult(new RateLimitDecision(current.Count <= limit, current.Count, limit, retryAfter));
        }
    }
}
