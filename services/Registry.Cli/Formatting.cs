using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Microservices.Registry.V1;

namespace Microservices.Registry.Cli;

internal static class Formatting
{
    /// <summary>Real timestamps, UTC, sortable as text.</summary>
    public static string Time(Timestamp? timestamp) =>
        timestamp is null ? "" : timestamp.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string Source(SourceType type) => type switch
    {
        SourceType.Huggingface => "huggingface",
        SourceType.CortexSo => "cortex.so",
        SourceType.Local => "local",
        _ => type.ToString(),
    };

    public static string Status(ModelStatus status) => status switch
    {
        ModelStatus.Ready => "READY",
        ModelStatus.Running => "RUNNING",
        _ => status.ToString(),
    };
}
