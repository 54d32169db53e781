namespace Microservices.Caching.Resilience;

internal enum CircuitState
{
    Closed = 0,
    HalfOpen = 1,
    Open = 2,
}

/// <summary>
/// Stops calling a dead or slow Redis after <c>failureThreshold</c> consecutive failures; after
/// <c>openDuration</c> lets one probe through, and closes again when it succeeds.
/// </summary>
internal sealed class CircuitBreaker
{
    private readonly Lock _lock = new();
    private readonly int _failureThreshold;
    private readonly TimeSpan _openDuration;
    private readonly TimeProvider _time;
    private CircuitState _state = CircuitState.Closed;
    private int _consecutiveFailures;
    private long _openedAt;
    private bool _probeInFlight;

    public CircuitBreaker(int failureThreshold, TimeSpan openDuration, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failureThreshold, 1);
        _failureThreshold = failureThreshold;
        _openDuration = openDuration;
        _time = time;
    }

    public event Action<CircuitState>? StateChanged;

    public CircuitState State
    {
        get
        {
            lock (_lock)
            {
                return _state;
            }
        }
    }

    /// <summary>True when the caller may try Redis now; in half-open state only one caller gets to.</summary>
    public bool TryAcquire()
    {
        CircuitState? changed = null;
        bool allowed;
        lock (_lock)
        {
            if (_state == CircuitState.Open && _time.GetElapsedTime(_openedAt) >= _openDuration)
            {
                _state = CircuitState.HalfOpen;
                _probeInFlight = false;
                changed = _state;
            }

            allowed = _state switch
            {
                CircuitState.Closed => true,
                CircuitState.HalfOpen when !_probeInFlight => _probeInFlight = true,
                _ => false,
            };
        }

        Raise(changed);
        return allowed;
    }

    public void RecordSuccess()
    {
        CircuitState? changed = null;
        lock (_lock)
        {
            _consecutiveFailures = 0;
            _probeInFlight = false;
            if (_state != CircuitState.Closed)
            {
                _state = CircuitState.Closed;
                changed = _state;
            }
        }

        Raise(changed);
    }

    public void RecordFailure()
    {
        CircuitState? changed = null;
        lock (_lock)
        {
            _consecutiveFailures++;
            _probeInFlight = false;
            if (_state == CircuitState.HalfOpen || (_state == CircuitState.Closed && _consecutiveFailures >= _failureThreshold))
            {
                _state = CircuitState.Open;
                _openedAt = _time.GetTimestamp();
                changed = _state;
            }
        }

        Raise(changed);
    }

    /// <summary>The caller gave up before Redis answered: no verdict, but a half-open probe slot is freed for the next caller.</summary>
    public void RecordAbandoned()
    {
        lock (_lock)
        {
            _probeInFlight = false;
        }
    }

    private void Raise(CircuitState? changed)
    {
        if (changed is { } state)
        {
            StateChanged?.Invoke(state);
        }
    }
}
