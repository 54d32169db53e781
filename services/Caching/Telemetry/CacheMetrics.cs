using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Microservices.Caching.Telemetry;

/// <summary>
/// OpenTelemetry-compatible instruments on the BCL Meter "Microservices.Caching"; an OTel SDK picks
/// them up with <c>AddMeter(CacheMetrics.MeterName)</c>. Every measurement carries the cache prefix.
/// </summary>
internal sealed class CacheMetrics : IDisposable
{
    public const string MeterName = "Microservices.Caching";

    private readonly Meter _meter;
    private readonly Counter<long> _hits;
    private readonly Counter<long> _misses;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _invalidations;
    private readonly Counter<long> _fillsRefused;
    private readonly KeyValuePair<string, object?> _prefixTag;

    public CacheMetrics(string prefix, Func<int> breakerState, Func<long> l1Bytes, Func<long> l1Entries, Func<int> pendingInvalidations)
    {
        _meter = new Meter(MeterName);
        _prefixTag = new("cache.prefix", prefix);
        _hits = _meter.CreateCounter<long>("cache.hits", "{request}", "Lookups answered from L1 or L2 (tag cache.level).");
        _misses = _meter.CreateCounter<long>("cache.misses", "{request}", "Lookups that went to the origin.");
        _errors = _meter.CreateCounter<long>("cache.errors", "{error}", "Redis operations that failed or timed out (tag cache.operation); the request itself was still served.");
        _invalidations = _meter.CreateCounter<long>("cache.invalidations", "{message}", "Evictions announced by other replicas and applied to this L1.");
        _fillsRefused = _meter.CreateCounter<long>("cache.fills.refused", "{fill}", "Loads whose value was not written to Redis because the key was written or removed while they loaded.");
        _meter.CreateObservableGauge("cache.breaker.state", () => new Measurement<int>(breakerState(), _prefixTag), null, "Redis circuit breaker: 0 closed, 1 half-open, 2 open.");
        _meter.CreateObservableGauge("cache.l1.size", () => new Measurement<long>(l1Bytes(), _prefixTag), "By", "Approximate bytes held by the in-process level.");
        _meter.CreateObservableGauge("cache.invalidations.pending", () => new Measurement<int>(pendingInvalidations(), _prefixTag), "{key}", "Writes whose invalidation has not reached Redis yet and is being retried.");
        _meter.CreateObservableGauge("cache.l1.entries", () => new Measurement<long>(l1Entries(), _prefixTag), "{entry}", "Entries held by the in-process level.");
    }

    public Meter Meter => _meter;

    public void Hit(string level) => _hits.Add(1, _prefixTag, new("cache.level", level));

    public void Miss() => _misses.Add(1, _prefixTag);

    public void Error(string operation) => _errors.Add(1, new TagList { _prefixTag, new("cache.operation", operation) });

    public void Invalidated() => _invalidations.Add(1, _prefixTag);

    public void FillRefused() => _fillsRefused.Add(1, _prefixTag);

    public void Dispose() => _meter.Dispose();
}
