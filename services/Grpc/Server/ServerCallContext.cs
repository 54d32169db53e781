using Microservices.Grpc.Protocol;
using Microsoft.AspNetCore.Http;

namespace Microservices.Grpc.Server;

/// <summary>What a handler knows about its call: metadata, deadline, cancellation, response options.</summary>
public sealed class ServerCallContext
{
    private static readonly AsyncLocal<ServerCallContext?> CurrentContext = new();
    private readonly ServerCall _call;

    private Metadata? _requestHeaders;

    internal ServerCallContext(ServerCall call, string method, DateTime deadline)
    {
        _call = call;
        Method = method;
        Deadline = deadline;
    }

    /// <summary>The call being served on this async flow; clients use it to propagate deadline and cancellation.</summary>
    public static ServerCallContext? Current
    {
        get => CurrentContext.Value;
        internal set => CurrentContext.Value = value;
    }

    /// <summary>The full method path, "/package.Service/Method".</summary>
    public string Method { get; }

    /// <summary>When the caller gives up; DateTime.MaxValue when it set no deadline. UTC.</summary>
    public DateTime Deadline { get; }

    /// <summary>Cancelled when the deadline passes, the client cancels (RST_STREAM) or the connection drops.</summary>
    public CancellationToken CancellationToken => _call.CancellationToken;

    /// <summary>The request's metadata, read from the HTTP/2 headers when first asked for.</summary>
    public Metadata RequestHeaders => _requestHeaders ??= MetadataCodec.FromHeaders(_call.HttpContext.Request.Headers);

    /// <summary>Trailers sent with the status at the end of the call.</summary>
    public Metadata ResponseTrailers { get; } = [];

    /// <summary>The peer address, e.g. "ipv4:127.0.0.1:53211".</summary>
    public string Peer => _call.Peer;

    /// <summary>Whether the most recently read request message arrived compressed.</summary>
    public bool RequestMessageCompressed => _call.LastRequestCompressed;

    /// <summary>
    /// The grpc-encoding to compress responses with (e.g. "gzip"), used when the client accepts it.
    /// Must be set before the first response message or the response headers are sent.
    /// </summary>
    public string? ResponseCompression { get; set; }

    /// <summary>When false, the following response messages are sent uncompressed even if ResponseCompression is on.</summary>
    public bool CompressResponseMessages { get; set; } = true;

    public IServiceProvider Services => _call.HttpContext.RequestServices;

    public HttpContext GetHttpContext() => _call.HttpContext;

    /// <summary>Sends response headers now; otherwise they go with the first message or the status.</summary>
    public Task WriteResponseHeadersAsync(Metadata headers) => _call.WriteResponseHeadersAsync(headers);
}
