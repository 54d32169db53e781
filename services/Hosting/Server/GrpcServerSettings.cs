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
}
