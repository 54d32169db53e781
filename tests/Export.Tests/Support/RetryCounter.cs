using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microservices.Export.Telemetry;

namespace Microservices.Export.Tests.Support;

/// <summary>
/// Counts export.dependency.retries by dependency while it lives. It hears every export meter of
/// the process, so tests that use it run in the Resilience collection, one at a time.
/// </summary>
internal sealed class RetryCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);

    public RetryCounter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ExportMetrics.Name && instrument.Name == "export.dependency.retries")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "dependency" && tag.Value is string dependency)
                {
                    _counts.AddOrUpdate(dependency, value, (_, old) => old + value);
                }
            }
        });
        _listener.Start();
    }

    public long this[string dependency] => _counts.GetValueOrDefault(dependency);

    public override string ToString() => string.Join(", ", new[] { "registry", "blob", "s3" }.Select(d => $"{d}={this[d]}"));

    public void Dispose() => _listener.Dispose();
}
