using System.Diagnostics.Metrics;

namespace Microservices.Clients.Tests.Support;

/// <summary>Counts the OS lookups of one name through .NET's own name-resolution metrics.</summary>
internal sealed class LookupCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private int _count;

    public LookupCounter(string name)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "System.Net.NameResolution" && instrument.Name == "dns.lookup.duration")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "dns.question.name" && string.Equals(tag.Value as string, name, StringComparison.OrdinalIgnoreCase))
                {
                    Interlocked.Increment(ref _count);
                }
            }
        });
        _listener.Start();
    }

    public int Count => Volatile.Read(ref _count);

    public void Dispose() => _listener.Dispose();
}
