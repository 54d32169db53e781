using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Microservices.Export.Telemetry;

/// <summary>The export service's meter and activity source (added to the host's OpenTelemetry in Extensions).</summary>
internal sealed class ExportMetrics : IDisposable
{
    public const string Name = "Microservices.Export";

    public static readonly ActivitySource Activities = new(Name);

    private readonly Meter _meter = new(Name);
    private readonly Counter<long> _jobsFinished;
    private readonly Counter<long> _jobsStarted;
    private readonly Counter<long> _bytes;
    private readonly Counter<long> _items;
    private readonly Counter<long> _retries;
    private readonly Histogram<double> _partUpload;
    private int _running;
    private (int Queued, int Running) _unfinished;

    public ExportMetrics()
    {
        _jobsStarted = _meter.CreateCounter<long>("export.jobs.started", description: "Jobs a replica began or took over, by kind and whether it was a takeover.");
        _jobsFinished = _meter.CreateCounter<long>("export.jobs.finished", description: "Jobs that reached a final state, by kind and state.");
        _meter.CreateObservableGauge("export.jobs.running", () => Volatile.Read(ref _running), description: "Jobs this replica runs now.");
        _meter.CreateObservableGauge("export.jobs.unfinished", Unfinished, description: "Unfinished jobs of every replica, by state (queued, running), as this replica last saw them.");
        _bytes = _meter.CreateCounter<long>("export.bytes", "By", "Bytes exported (kind=archive: compressed bytes uploaded; kind=data: blob bytes read).");
        _items = _meter.CreateCounter<long>("export.items", description: "Items exported or imported, by type (model, blob, reference).");
        _retries = _meter.CreateCounter<long>("export.dependency.retries", description: "Retried calls to registry, blob or S3, by dependency.");
        _partUpload = _meter.CreateHistogram<double>("export.part.upload.duration", "s", "S3 UploadPart latency, retries included.");
    }

    public void JobStarted(string kind, bool takeover)
    {
        Interlocked.Increment(ref _running);
        _jobsStarted.Add(1, new("kind", kind), new("takeover", takeover));
    }

    public void JobStopped(string kind, string? finalState)
    {
        Interlocked.Decrement(ref _running);
        if (finalState is not null)
        {
            _jobsFinished.Add(1, new("kind", kind), new("state", finalState));
        }
    }

    /// <summary>What the scheduler saw at its last poll of the shared store.</summary>
    public void UnfinishedJobs(int queued, int running) => _unfinished = (queued, running);

    private IEnumerable<Measurement<int>> Unfinished()
    {
        var (queued, running) = _unfinished;
        yield return new Measurement<int>(queued, new KeyValuePair<string, object?>("state", "queued"));
        yield return new Measurement<int>(running, new KeyValuePair<string, object?>("state", "running"));
    }

    public void ArchiveBytes(long bytes) => _bytes.Add(bytes, new KeyValuePair<string, object?>("kind", "archive"));

    public void DataBytes(long bytes) => _bytes.Add(bytes, new KeyValuePair<string, object?>("kind", "data"));

    public void Items(string type, long count) => _items.Add(count, new KeyValuePair<string, object?>("type", type));

    public void Retry(string dependency) => _retries.Add(1, new KeyValuePair<string, object?>("dependency", dependency));

    public void PartUploaded(TimeSpan elapsed) => _partUpload.Record(elapsed.TotalSeconds);

    public void Dispose() => _meter.Dispose();
}
