using System.Collections.ObjectModel;
using System.Diagnostics;

namespace Microservices.TestSupport;

/// <summary>
/// The collection the in-memory exporter fills, safe to read while server spans are still being
/// exported (a server span ends after its response has reached the client).
/// </summary>
public sealed class SpanList : Collection<Activity>
{
    public IReadOnlyList<Activity> Snapshot()
    {
        lock (Items)
        {
            return [.. Items];
        }
    }

    /// <summary>The spans of <paramref name="traceId"/> once <paramref name="done"/> holds (or after 10 s, for the assertions to explain).</summary>
    public async Task<IReadOnlyList<Activity>> WaitForAsync(ActivityTraceId traceId, Func<IReadOnlyList<Activity>, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var spans = Snapshot().Where(s => s.TraceId == traceId).ToList();
            if (done(spans) || DateTime.UtcNow > deadline)
            {
                return spans;
            }

            await Task.Delay(20);
        }
    }

    protected override void InsertItem(int index, Activity item)
    {
        lock (Items)
        {
            base.InsertItem(index, item);
        }
    }
}
