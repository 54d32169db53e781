using System.Diagnostics.Metrics;
using Microservices.Blob.Domain;
using Microservices.Blob.Tests.Support;

namespace Microservices.Blob.Tests.Service;

public sealed class MetricsTests
{
    [Fact]
    public async Task Stored_bytes_and_dedup_hits_are_counted()
    {
        long stored = 0, dedup = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == BlobMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "blob.stored.bytes")
            {
                Interlocked.Add(ref stored, value);
            }
            else if (instrument.Name == "blob.dedup.hits")
            {
                Interlocked.Add(ref dedup, value);
            }
        });
        listener.Start();

        await using var host = await BlobHost.StartAsync();
        var data = TestData.Random(12_345, seed: 90);
        await new BlobClient(host.Channel, "alice").PutAsync(data);
        await new BlobClient(host.Channel, "bob").PutAsync(data);

        // Other tests run in parallel and count too: at least ours.
        Assert.True(Interlocked.Read(ref stored) >= data.Length);
        Assert.True(Interlocked.Read(ref dedup) >= 1);
    }
}
