using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microservices.Export.Tests.Support;
using Microservices.Export.V1;

namespace Microservices.Export.Tests.Service;

/// <summary>
/// The export meter reports jobs by state, bytes and items, and part upload latency. Meters are
/// process-wide, so this class runs alone (no other export's measurements mix in).
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed class MetricsTests
{
    [Fact]
    public async Task An_export_is_counted_by_state_bytes_items_and_part_latency()
    {
        var measurements = new ConcurrentBag<(string Name, double Value, string Tags)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Microservices.Export")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => measurements.Add((i.Name, v, Tags(tags))));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => measurements.Add((i.Name, v, Tags(tags))));
        listener.SetMeasurementEventCallback<int>((i, v, tags, _) => measurements.Add((i.Name, v, Tags(tags))));
        listener.Start();

        await using var system = await ExportSystem.StartAsync();
        await Seed.ModelsAsync(system, "fay", 3);
        var blobs = await Seed.BlobsAsync(system, "fay", [1000, 2000]);
        var started = await system.Export.StartExportAsync(new StartExportRequest(), ExportSystem.As("fay"));
        Assert.Equal(JobState.Completed, (await Seed.FinishedAsync(system, "fay", started.ExportId)).State);
        listener.RecordObservableInstruments();

        Assert.Contains(measurements, m => m.Name == "export.jobs.finished" && m.Tags.Contains("state=completed", StringComparison.Ordinal) && m.Tags.Contains("kind=export", StringComparison.Ordinal));
        Assert.Contains(measurements, m => m.Name == "export.jobs.started" && m.Tags.Contains("takeover=False", StringComparison.Ordinal));
        Assert.Equal(3000, measurements.Where(m => m.Name == "export.bytes" && m.Tags.Contains("kind=data", StringComparison.Ordinal)).Sum(m => m.Value));
        Assert.True(measurements.Where(m => m.Name == "export.bytes" && m.Tags.Contains("kind=archive", StringComparison.Ordinal)).Sum(m => m.Value) > 0);
        Assert.Equal(3, measurements.Where(m => m.Name == "export.items" && m.Tags.Contains("type=model", StringComparison.Ordinal)).Sum(m => m.Value));
        Assert.Equal(2, measurements.Where(m => m.Name == "export.items" && m.Tags.Contains("type=blob", StringComparison.Ordinal)).Sum(m => m.Value));
        Assert.Contains(measurements, m => m.Name == "export.part.upload.duration" && m.Value > 0);
        Assert.Contains(measurements, m => m.Name == "export.jobs.running");
        Assert.Equal(2, blobs.Count);
    }

    private static string Tags(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var parts = new List<string>();
        foreach (var tag in tags)
        {
            parts.Add($"{tag.Key}={tag.Value}");
        }

        return string.Join(',', parts);
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsCollection
{
    public const string Name = "export metrics (alone)";
}
