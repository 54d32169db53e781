using System.Diagnostics.Metrics;

namespace Microservices.Blob.Domain;

/// <summary>
/// Meter "Microservices.Blob" (exported by the host's OpenTelemetry setup): what dedup, the byte
/// cache and trace offload actually save, which traces alone do not show.
/// </summary>
internal static class BlobMetrics
{
    public const string MeterName = "Microservices.Blob";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Original bytes written to storage (a new stored object).</summary>
    public static readonly Counter<long> StoredBytes = Meter.CreateCounter<long>("blob.stored.bytes", "By", "original bytes of newly stored objects");

    /// <summary>Puts whose bytes were already stored (another owner's or an earlier upload): no write.</summary>
    public static readonly Counter<long> DedupHits = Meter.CreateCounter<long>("blob.dedup.hits", "{put}", "puts answered without writing bytes");

    /// <summary>Local byte cache lookups, tagged result = hit | miss | corrupt.</summary>
    public static readonly Counter<long> CacheLookups = Meter.CreateCounter<long>("blob.cache.lookups", "{lookup}", "local byte cache lookups");

    /// <summary>Blobs removed by garbage collection (stored objects deleted).</summary>
    public static readonly Counter<long> Collected = Meter.CreateCounter<long>("blob.gc.objects", "{object}", "stored objects deleted by garbage collection");
}
