using System.Collections.Concurrent;
using System.Diagnostics;
using OpenTelemetry;

namespace Microservices.Hosting.Tests.Support;

/// <summary>Keeps every exported span (no in-memory exporter package is restorable here).</summary>
internal sealed class CapturingExporter : BaseExporter<Activity>
{
    private readonly ConcurrentQueue<Activity> _spans = new();

    public IReadOnlyList<Activity> Spans => _spans.ToArray();

    public override ExportResult Export(in Batch<Activity> batch)
    {
        foreach (var activity in batch)
        {
            _spans.Enqueue(activity);
        }

        return ExportResult.Success;
    }

    /// <summary>The spans of <paramref name="traceId"/> once <paramref name="done"/> holds; other tests' spans are ignored.</summary>
    public async Task<IReadOnlyList<Activity>> WaitForAsync(ActivityTraceId traceId, Func<IReadOnlyList<Activity>, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var spans = Spans.Where(s => s.TraceId == traceId).ToList();
            if (done(spans) || DateTime.UtcNow > deadline)
            {
                return spans;
            }

            await Task.Delay(20);
        }
    }
}
