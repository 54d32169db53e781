using Microservices.Caching.Resilience;

namespace Microservices.Caching.Tests;

public sealed class CircuitBreakerTests
{
    private readonly ManualTimeProvider _time = new();

    [Fact]
    public void Opens_after_consecutive_failures_probes_once_and_closes_on_success()
    {
        var breaker = new CircuitBreaker(failureThreshold: 3, TimeSpan.FromSeconds(5), _time);
        breaker.RecordFailure();
        breaker.RecordSuccess();
        breaker.RecordFailure();
        breaker.RecordFailure();
        Assert.Equal(CircuitState.Closed, breaker.State);

        breaker.RecordFailure();
        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.False(breaker.TryAcquire());

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.True(breaker.TryAcquire());
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Assert.False(breaker.TryAcquire());

        breaker.RecordSuccess();
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.True(breaker.TryAcquire());
    }

    [Fact]
    public void A_probe_whose_caller_gave_up_lets_the_next_caller_probe()
    {
        var breaker = new CircuitBreaker(failureThreshold: 1, TimeSpan.FromSeconds(5), _time);
        breaker.RecordFailure();
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.True(breaker.TryAcquire());
        Assert.False(breaker.TryAcquire());

        breaker.RecordAbandoned();

        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Assert.True(breaker.TryAcquire());
    }

    [Fact]
    public void A_failed_probe_opens_it_again_for_a_full_period()
    {
        var breaker = new CircuitBreaker(failureThreshold: 1, TimeSpan.FromSeconds(5), _time);
        breaker.RecordFailure();
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.True(breaker.TryAcquire());

        breaker.RecordFailure();

        Assert.Equal(CircuitState.Open, breaker.State);
        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(breaker.TryAcquire());
    }
}
