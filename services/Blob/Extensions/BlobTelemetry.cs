using Microservices.Blob.Domain;
using Microservices.Hosting;
using OpenTelemetry.Metrics;

namespace Microservices.Blob.Extensions;

internal static class BlobTelemetry
{
    /// <summary>Adds the blob meter (and the cache tier's) to the host's OpenTelemetry metrics.</summary>
    public static void Configure(ServiceDefaultsOptions options) =>
        options.ConfigureMetrics = metrics => metrics.AddMeter(BlobMetrics.MeterName, Microservices.Caching.CachingTelemetry.MeterName);
}
