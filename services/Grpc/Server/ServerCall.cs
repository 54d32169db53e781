using System.Globalization;
using Google.Protobuf;
using Microservices.Grpc.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Microservices.Grpc.Server;

/// <summary>
/// One call on the wire: reads request messages, writes headers, messages and the final status.
/// Writes and completion are serialised by a lock so a deadline firing mid-write cannot interleave
/// frames; after completion every write is refused.
/// </summary>
internal sealed class ServerCall : IDisposable
{
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly GrpcServerOptions _options;
    private readonly MessageReader _reader;
    private readonly CancellationTokenSource? _callCancellation;
    private readonly CancellationTokenSource? _deadlineCancellation;
    private readonly string? _requestEncoding;
    private bool _headersSent;
    private bool _completed;

    private ServerCall(HttpContext httpContext, GrpcServerOptions options, string? requestEncoding, TimeSpan? timeout)
    {
        HttpContext = httpContext;
        _options = options;
        _reader = new MessageReader(httpContext.Request.BodyReader, requestEncoding, options.MaxReceiveMessageSize);
        _requestEncoding = requestEncoding;
        if (timeout is { } value)
        {
            _deadlineCancellation = new CancellationTokenSource();
            _callCancellation = CancellationTokenSource.CreateLinkedTokenSource(httpContext.RequestAborted, _deadlineCancellation.Token);
            _deadlineCancellation.Token.Register(static state => ((ServerCall)state!).OnDeadline(), this);
            _deadlineCancellation.CancelAfter(value);
        }
    }

    public HttpContext HttpContext { get; }

    public ServerCallContext Context { get; private set; } = null!;

    /// <summary>The application's root provider, for singleton service implementations.</summary>
    public IServiceProvider RootServices { get; private set; } = null!;

    /// <summary>The deadline or the client's reset; without a deadline simply the request's abort token.</summary>
    public CancellationToken CancellationToken => _callCancellation?.Token ?? HttpContext.RequestAborted;

    /// <summary>
    /// For our own pipe reads and flushes: only the deadline. A client reset already fails them
    /// (Kestrel completes the pipes), and not touching RequestAborted saves creating and
    /// registering on its token source on every call.
    /// </summary>
    private CancellationToken IoToken => _callCancellation?.Token ?? default;

    public bool DeadlineExceeded => _deadlineCancellation?.IsCancellationRequested == true;

    public bool LastRequestCompressed => _reader.LastMessageCompressed;

    public string Peer
    {
        get
        {
            var connection = HttpContext.Connection;
            var address = connection.RemoteIpAddress;
            if (address is null)
            {
                return "unknown";
            }

            var family = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "ipv6:[" + address + "]" : "ipv4:" + address;
            return family + ":" + connection.RemotePort.ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Validates the protocol-level headers; a violation is returned as the status to answer with.</summary>
    public static ServerCall Create(HttpContext httpContext, IServiceProvider rootServices, string method, GrpcServerOptions options, out Status? rejection)
    {
        rejection = null;
        var headers = httpContext.Request.Headers;
        TimeSpan? timeout = null;
        var timeoutHeader = headers[GrpcHeaders.Timeout].ToString();
        if (timeoutHeader.Length > 0)
        {
            if (GrpcTimeout.TryParse(timeoutHeader, out var parsed))
            {
                timeout = parsed;
            }
            else
            {
                rejection = new Status(StatusCode.Internal, $"Malformed grpc-timeout '{timeoutHeader}': expected 1-8 digits and a unit H, M, S, m, u or n.");
            }
        }

        string? encoding = headers[GrpcHeaders.Encoding];
        if (rejection is null && encoding is not null && !MessageCompression.IsSupported(encoding))
        {
            rejection = new Status(StatusCode.Unimplemented,
                $"Unsupported grpc-encoding '{encoding}'; this server accepts {MessageCompression.AcceptEncodingValue}.");
            httpContext.Response.Headers[GrpcHeaders.AcceptEncoding] = MessageCompression.AcceptEncodingValue;
        }

        rejection ??= CheckMetadata(headers, options.MaxRequestMetadataSize);

        var call = new ServerCall(httpContext, options, rejection is null ? encoding : null, rejection is null ? timeout : null);
        var deadline = timeout is { } t ? DateTime.UtcNow + t : DateTime.MaxValue;
        call.Context = new ServerCallContext(call, method, deadline);
        call.RootServices = rootServices;
        return call;
    }

    public async Task<T> ReadSingleRequestAsync<T>(MessageParser<T> parser)
        where T : class, IMessage<T>
    {
        var message = await _reader.ReadAsync(parser, IoToken).ConfigureAwait(false)
            ?? throw new RpcException(StatusCode.Internal, "The request stream ended before the request message arrived.");
        if (await _reader.ReadAsync(parser, IoToken).ConfigureAwait(false) is not null)
        {
            throw new RpcException(StatusCode.Internal, "A unary request carried more than one message.");
        }

        return message;
    }

    public ValueTask<T?> ReadRequestAsync<T>(MessageParser<T> parser, CancellationToken cancellationToken)
        where T : class, IMessage<T>
    {
        if (cancellationToken.CanBeCanceled && cancellationToken != IoToken)
        {
            return ReadLinkedAsync(parser, cancellationToken);
        }

        return _reader.ReadAsync(parser, IoToken);
    }

    public async Task WriteResponseHeadersAsync(Metadata headers)
    {
        await _writeLock.WaitAsync(IoToken).ConfigureAwait(false);
        try
        {
            ThrowIfCompleted();
            if (_headersSent)
            {
                throw new InvalidOperationException("Response headers have already been sent.");
            }

            SendHeaders(headers);
            await HttpContext.Response.BodyWriter.FlushAsync(IoToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Writes a response message: flushed at once for streams; a single (unary) response goes out with the trailers.</summary>
    public async Task WriteMessageAsync(IMessage message, CancellationToken cancellationToken, bool flush = true)
    {
        var token = cancellationToken.CanBeCanceled ? cancellationToken : IoToken;
        await _writeLock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            ThrowIfCompleted();
            if (!_headersSent)
            {
                SendHeaders(null);
            }

            var compression = ResponseEncoding is { } encoding && Context.CompressResponseMessages ? encoding : null;
            var writer = HttpContext.Response.BodyWriter;
            MessageWriter.Write(writer, message, compression, _options.ResponseCompressionLevel, _options.MaxSendMessageSize);
            if (!flush)
            {
                return;
            }

            var flushed = await writer.FlushAsync(token).ConfigureAwait(false);
            if (flushed.IsCanceled)
            {
                throw new OperationCanceledException(token);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Ends the call with a status: trailers if anything was sent, otherwise a trailers-only
    /// response. With <paramref name="endResponseNow"/> false, Kestrel sends what is buffered and
    /// the trailers together when the request delegate returns: one write for a unary call.
    /// </summary>
    public async Task CompleteAsync(Status status, bool endResponseNow = true)
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_completed)
            {
                return;
            }

            // After a client reset nobody listens; Kestrel drops what is written, and failures are caught below.
            _completed = true;

            var response = HttpContext.Response;
            if (!response.HasStarted && !_headersSent)
            {
                response.StatusCode = StatusCodes.Status200OK;
                response.ContentType = GrpcHeaders.ContentType;
                response.Headers[GrpcHeaders.Status] = ((int)status.Code).ToString(CultureInfo.InvariantCulture);
                if (status.Detail.Length > 0)
                {
                    response.Headers[GrpcHeaders.Message] = StatusMessageEncoding.Encode(status.Detail);
                }

                foreach (var entry in Context.ResponseTrailers)
                {
                    response.Headers.Append(entry.Key, MetadataCodec.EncodeValue(entry));
                }
            }
            else
            {
                // Set, not appended: the status fields are fresh, and Kestrel stores them in fixed slots.
                var trailers = HttpContext.Features.GetRequiredFeature<IHttpResponseTrailersFeature>().Trailers;
                trailers[GrpcHeaders.Status] = ((int)status.Code).ToString(CultureInfo.InvariantCulture);
                if (status.Detail.Length > 0)
                {
                    trailers[GrpcHeaders.Message] = StatusMessageEncoding.Encode(status.Detail);
                }

                foreach (var entry in Context.ResponseTrailers)
                {
                    trailers.Append(entry.Key, MetadataCodec.EncodeValue(entry));
                }
            }

            if (endResponseNow)
            {
                await response.CompleteAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException)
        {
            // The connection went away while finishing; there is no one to tell.
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public void Dispose()
    {
        _deadlineCancellation?.Dispose();
        _callCancellation?.Dispose();
    }

    private string? ResponseEncoding =>
        Context.ResponseCompression is { } wanted && wanted != MessageCompression.Identity &&
        MessageCompression.PeerAccepts(HttpContext.Request.Headers[GrpcHeaders.AcceptEncoding], wanted) ? wanted : null;

    private void SendHeaders(Metadata? headers)
    {
        var response = HttpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = GrpcHeaders.ContentType;
        if (ResponseEncoding is { } encoding)
        {
            response.Headers[GrpcHeaders.Encoding] = encoding;
        }

        // Advertised to clients that compress (as grpc-go does), not encoded on every response.
        if (_requestEncoding is not null)
        {
            response.Headers[GrpcHeaders.AcceptEncoding] = MessageCompression.AcceptEncodingValue;
        }

        if (headers is not null)
        {
            foreach (var entry in headers)
            {
                response.Headers.Append(entry.Key, MetadataCodec.EncodeValue(entry));
            }
        }

        _headersSent = true;
    }

    private void ThrowIfCompleted()
    {
        if (_completed)
        {
            throw DeadlineExceeded
                ? new RpcException(StatusCode.DeadlineExceeded, "The call's deadline has passed.")
                : new InvalidOperationException("The call has already completed.");
        }
    }

    private void OnDeadline()
    {
        // Answer the client now, even if the handler ignores its cancellation token.
        _ = CompleteAsync(new Status(StatusCode.DeadlineExceeded, "Deadline exceeded."));
    }

    private async ValueTask<T?> ReadLinkedAsync<T>(MessageParser<T> parser, CancellationToken cancellationToken)
        where T : class, IMessage<T>
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, IoToken);
        return await _reader.ReadAsync(parser, linked.Token).ConfigureAwait(false);
    }

    /// <summary>The total metadata size is within the limit and every "-bin" value is base64.</summary>
    private static Status? CheckMetadata(IHeaderDictionary headers, int limit)
    {
        long size = 0;
        foreach (var (key, values) in headers)
        {
            if (key.StartsWith(':'))
            {
                continue;
            }

            foreach (var value in values)
            {
                size += key.Length + (value?.Length ?? 0) + 32;
            }

            // HTTP/2 field names are lower-case on the wire (Kestrel refuses others): an ordinal test suffices.
            if (key.EndsWith(Metadata.BinarySuffix, StringComparison.Ordinal))
            {
                try
                {
                    foreach (var value in values)
                    {
                        MetadataCodec.DecodeBinary(value ?? "");
                    }
                }
                catch (FormatException)
                {
                    return new Status(StatusCode.Internal, $"Request metadata '{key}' is not valid base64.");
                }
            }
        }

        return size > limit
            ? new Status(StatusCode.ResourceExhausted, $"Request metadata is {size} bytes; the limit is {limit} bytes.")
            : null;
    }
}
