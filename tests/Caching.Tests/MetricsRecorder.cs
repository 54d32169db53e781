using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Microservices.Caching.Tests;

/// <summary>Listens to one cache's meter the way an OpenTelemetry SDK would.</summary>
internal sealed class MetricsRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _sums = new();
    private readonly ConcurrentDictionary<string, long> _last = new();

    public MetricsRecorder(Meter meter)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Sum of a counter, optionally only measurements carrying the tag value.</summary>
    public long Sum(string name, string? tagValue = null) => _sums.GetValueOrDefault(tagValue is null ? name : $"{name}|{tagValue}");

    public long Gauge(string name)
    {
        _listener.RecordObservableInstruments();
        return _last.GetValueOrDefault(name);
    }

    public string Dump() => string.Join(", ", _sums.Select(p => $"{p.Key}={p.Value}"));

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (instrument is ObservableGauge<int> or ObservableGauge<long>)
        {
            _last[instrument.Name] = value;
            return;
        }

        _sums.AddOrUpdate(instrument.Name, value, (_, sum) => sum + value);
        foreach (var tag in tags)
        {
            if (tag.Key != "cache.prefix")
            {
                _sums.AddOrUpdate($"{instrument.Name}|{tag.Value}", value, (_, sum) => sum + value);
            }
        }
    }
}
