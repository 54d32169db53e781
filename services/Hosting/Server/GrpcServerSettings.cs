using System.IO.Compression;

namespace Microservices.Hosting.Server;

/// <summary>Limits for every call a host serves. Bound from configuration section "Grpc".</summary>
internal sealed class GrpcServerSettings
{
    public const string SectionName = "Grpc";

    /// <summary>Largest request message accepted (after decompression); larger ones get RESOURCE_EXHAUSTED.</summary>
    public int MaxReceiveMessageSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>Largest response message a handler may send.</summary>
    public int? MaxSendMessageSize { get; set; }

    /// <summary>Largest total size of request metadata (names + values); larger gets RESOURCE_EXHAUSTED.</summary>
    public int MaxRequestMetadataSize { get; set; } = 16 * 1024;

    public CompressionLevel ResponseCompressionLevel { get; set; } = CompressionLevel.Fastest;

    /// <summary>Server reflection lets grpcurl work without proto files; off where the API should not be listed.</summary>
    public bool EnableReflection { get; set; } = true;

    /// <summary>Longest a unary call may run on the server before it ends with DEADLINE_EXCEEDED; a shorter client deadline wins.</summary>
    public TimeSpan MaxUnaryDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest a streaming call (client, server or duplex) may run on the server.</summary>
    public TimeSpan MaxStreamingDuration { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Per-method overrides of the two above, keyed "Service.Method" (see GrpcMethodNames).</summary>
    public Dictionary<string, TimeSpan> MaxCallDurations { get; set; } = [];
}
