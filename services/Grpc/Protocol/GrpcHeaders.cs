namespace Microservices.Grpc.Protocol;

/// <summary>Names and values from grpc/doc/PROTOCOL-HTTP2.md.</summary>
internal static class GrpcHeaders
{
    public const string ContentType = "application/grpc";
    public const string Status = "grpc-status";
    public const string Message = "grpc-message";
    public const string Timeout = "grpc-timeout";
    public const string Encoding = "grpc-encoding";
    public const string AcceptEncoding = "grpc-accept-encoding";
    public const string TraceParent = "traceparent";
    public const string TraceState = "tracestate";
    public const int MessagePrefixLength = 5;

    /// <summary>True for application/grpc and application/grpc+anything (e.g. +proto).</summary>
    public static bool IsGrpcContentType(string? contentType)
    {
        if (contentType is null || !contentType.StartsWith(ContentType, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (contentType.Length == ContentType.Length)
        {
            return true;
        }

        var next = contentType[ContentType.Length];
        return next is '+' or ';';
    }

    /// <summary>Headers that belong to the transport or the protocol, never exposed as call metadata.</summary>
    public static bool IsReserved(string key) =>
        key.StartsWith(':') ||
        key.StartsWith("grpc-", StringComparison.OrdinalIgnoreCase) ||
        key.Equals("content-type", StringComparison.OrdinalIgnoreCase) ||
        key.Equals("te", StringComparison.OrdinalIgnoreCase) ||
        key.Equals("host", StringComparison.OrdinalIgnoreCase) ||
        key.Equals("user-agent", StringComparison.OrdinalIgnoreCase) ||
        key.Equals("content-length", StringComparison.OrdinalIgnoreCase) ||
        key.Equals("date", StringComparison.OrdinalIgnoreCase) ||
        key.Equals("server", StringComparison.OrdinalIgnoreCase) ||
        key.Equals("accept-encoding", StringComparison.OrdinalIgnoreCase);
}
