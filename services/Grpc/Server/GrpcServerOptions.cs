using System.IO.Compression;

namespace Microservices.Grpc.Server;

/// <summary>Limits and defaults for every call a host serves. Bound from configuration section "Grpc".</summary>
public sealed class GrpcServerOptions
{
    /// <summary>Largest request message accepted (after decompression); larger ones get RESOURCE_EXHAUSTED.</summary>
    public int MaxReceiveMessageSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>Largest response message a handler may send.</summary>
    public int MaxSendMessageSize { get; set; } = int.MaxValue;

    /// <summary>Largest total size of request metadata (names + values); larger gets RESOURCE_EXHAUSTED.</summary>
    public int MaxRequestMetadataSize { get; set; } = 16 * 1024;

    public CompressionLevel ResponseCompressionLevel { get; set; } = CompressionLevel.Fastest;
}
