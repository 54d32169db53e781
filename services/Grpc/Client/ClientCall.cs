using System.Buffers;
using System.Diagnostics;
using System.IO.Compression;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Microservices.Grpc.Protocol;
using Microservices.Grpc.Server;
using Microservices.Grpc.Telemetry;

namespace Microservices.Grpc.Client;

/// <summary>
/// One client call over HttpClient: the request (whole or pushed), the response headers,
/// response messages, and the status from trailers or a trailers-only response.
/// </summary>
internal sealed class ClientCall<TRequest, TResponse> : IClientStreamWriter<TRequest>, IAsyncStreamReader<TResponse>, ICallState
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    private static readonly MediaTypeHeaderValue GrpcContentType = new(GrpcHeaders.ContentType);
    private static readonly TimeSpan ServerStatusGrace = TimeSpan.FromSeconds(2);
    private readonly GrpcChannel _channel;
    private readonly Method<TRequest, TResponse> _method;
    private readonly CallOptions _options;
    private readonly DateTime? _deadline;
    private readonly CancellationTokenSource _cancellation;
    private readonly CancellationTokenSource? _deadlineCancellation;
    private readonly ClientCallInfo _info;
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly Activity? _activity;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly TaskCompletionSource<Metadata> _responseHeaders = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _finishedSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private HttpResponseMessage? _response;
    private MessageReader? _reader;
    private PushStreamContent? _requestStream;
    private Task? _sendTask;
    private Status? _status;
    private Metadata _trailers = [];
    private TResponse? _current;
    private int _finished;
    private bool _requestCompleted;

    public ClientCall(GrpcChannel channel, Method<TRequest, TResponse> method, CallOptions options)
    {
        _channel = channel;
        _method = method;
        _options = options;
        var tokens = new List<CancellationToken> { options.CancellationToken };
        _deadline = options.Deadline;
        if (!options.DoNotPropagateServerCall && ServerCallContext.Current is { } incoming)
        {
            tokens.Add(incoming.CancellationToken);
            if (incoming.Deadline != DateTime.MaxValue && (_deadline is null || incoming.Deadline < _deadline))
            {
                _deadline = incoming.Deadline;
            }
        }

        if (_deadline is { } deadline)
        {
            _deadlineCancellation = new CancellationTokenSource();
            tokens.Add(_deadlineCancellation.Token);
            var remaining = deadline - DateTime.UtcNow;
            _deadlineCancellation.CancelAfter(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
        }

        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(tokens.ToArray());
        // Cancellation or the deadline ends the call even when no read or write is pending.
        _cancellation.Token.Register(static state => ((ClientCall<TRequest, TResponse>)state!).OnCancelled(), this);
        _info = new ClientCallInfo(method.Path, method.Type, CopyHeaders(options.Headers));
        _activity = GrpcTelemetry.StartClient(method.ServiceName, method.Name, channel.Address.Host, channel.Address.Port);
        foreach (var interceptor in channel.Options.Interceptors)
        {
            interceptor.OnCallStarting(_info);
        }
    }

    public TResponse Current => _current ?? throw new InvalidOperationException("MoveNext has not returned true.");

    public Task<Metadata> ResponseHeadersAsync => _responseHeaders.Task;

    public Status GetStatus() => _status ?? throw new InvalidOperationException("The call has not finished; its status is not known yet.");

    public Metadata GetTrailers() => _status is null ? throw new InvalidOperationException("The call has not finished; trailers are not known yet.") : _trailers;

    /// <summary>Unary: one attempt; GrpcChannel retries by starting a new call.</summary>
    public async Task<TResponse> UnaryAsync(TRequest request)
    {
        await SendAsync(new ByteArrayContent(Frame(request))).ConfigureAwait(false);
        return await ReadSingleResponseAsync().ConfigureAwait(false);
    }

    /// <summary>Server streaming: sends the request; responses are then read through MoveNext.</summary>
    public void StartServerStreamingWith(TRequest request) => _sendTask = Capture(() => SendAsync(new ByteArrayContent(Frame(request))));

    /// <summary>Client or duplex streaming: opens the call; requests are written through WriteAsync.</summary>
    public void StartStreaming()
    {
        _requestStream = new PushStreamContent();
        _sendTask = Capture(() => SendAsync(_requestStream));
    }

    public async Task<TResponse> ReadSingleResponseAsync()
    {
        if (_sendTask is not null)
        {
            await _sendTask.ConfigureAwait(false);
        }

        var response = await ReadAsync().ConfigureAwait(false)
            ?? throw Fail(new Status(StatusCode.Internal, "The call ended with OK but without a response message."));
        if (await ReadAsync().ConfigureAwait(false) is not null)
        {
            throw Fail(new Status(StatusCode.Internal, "A unary response carried more than one message."));
        }

        return response;
    }

    public async Task<bool> MoveNext(CancellationToken cancellationToken = default)
    {
        if (_sendTask is not null)
        {
            await _sendTask.ConfigureAwait(false);
        }

        using var registration = cancellationToken.CanBeCanceled ? cancellationToken.Register(static c => ((CancellationTokenSource)c!).Cancel(), _cancellation) : default;
        _current = await ReadAsync().ConfigureAwait(false);
        return _current is not null;
    }

    public async Task WriteAsync(TRequest message, CancellationToken cancellationToken = default)
    {
        var content = _requestStream ?? throw new InvalidOperationException("This call has no request stream.");
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfFinished();
            if (_requestCompleted)
            {
                throw new InvalidOperationException("The request stream has already been completed.");
            }

            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _cancellation.Token);
            var stream = await content.StreamTask.WaitAsync(linked.Token).ConfigureAwait(false);
            var payload = Frame(message);
            await stream.WriteAsync(payload, linked.Token).ConfigureAwait(false);
            await stream.FlushAsync(linked.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not RpcException and not InvalidOperationException)
        {
            throw await WriteFailureAsync(ex).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async Task CompleteAsync()
    {
        // Wait for a write in progress so END_STREAM never overtakes the last message.
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            _requestCompleted = true;
            _requestStream?.Complete();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public void Dispose()
    {
        if (_status is null)
        {
            // Disposing a call that is still running cancels it (RST_STREAM).
            Finish(new Status(StatusCode.Cancelled, "The call was disposed before it finished."), []);
        }

        _response?.Dispose();
        _cancellation.Dispose();
        _deadlineCancellation?.Dispose();
    }

    private async Task SendAsync(HttpContent content)
    {
        ThrowIfFinished();
        if (_deadline is { } deadline && deadline <= DateTime.UtcNow)
        {
            throw Fail(new Status(StatusCode.DeadlineExceeded, "Deadline exceeded before the call was sent."));
        }

        content.Headers.ContentType = GrpcContentType;
        var (invoker, subchannel) = await PickAsync().ConfigureAwait(false);
        using var request = CreateRequest(content);
        try
        {
            _response = await invoker.SendAsync(request, _cancellation.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            if (subchannel is not null && ex is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError })
            {
                _channel.ReportConnectFailure(subchannel);
            }

            throw Fail(MapException(ex));
        }

        if (_response.StatusCode != HttpStatusCode.OK)
        {
            throw Fail(ClientStatusMapping.FromHeaders(_response.Headers) ?? ClientStatusMapping.FromHttpStatus(_response.StatusCode));
        }

        _responseHeaders.TrySetResult(MetadataCodec.FromHeaders(_response.Headers));
        if (ClientStatusMapping.FromHeaders(_response.Headers) is { } trailersOnly)
        {
            Finish(trailersOnly, MetadataCodec.FromHeaders(_response.Headers));
            return;
        }

        var contentType = _response.Content.Headers.ContentType?.MediaType;
        if (!GrpcHeaders.IsGrpcContentType(contentType))
        {
            throw Fail(new Status(StatusCode.Unknown, $"Bad gRPC response: content-type '{contentType}'."));
        }

        var encoding = _response.Headers.NonValidated.TryGetValues(GrpcHeaders.Encoding, out var values) ? values.ToString() : null;
        var body = await _response.Content.ReadAsStreamAsync(_cancellation.Token).ConfigureAwait(false);
        _reader = new MessageReader(PipeReader.Create(body), encoding, _channel.Options.MaxReceiveMessageSize);
    }

    private async Task<TResponse?> ReadAsync()
    {
        if (_status is { } finished)
        {
            return finished.Code == StatusCode.OK ? null : throw new RpcException(finished, _trailers);
        }

        TResponse? message;
        try
        {
            message = await _reader!.ReadAsync(_method.ResponseParser, _cancellation.Token).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            throw Fail(ex.Status);
        }
        catch (Exception ex)
        {
            throw Fail(MapException(ex));
        }

        if (message is not null)
        {
            return message;
        }

        var status = ClientStatusMapping.FromHeaders(_response!.TrailingHeaders)
            ?? new Status(StatusCode.Unknown, "The response ended without a grpc-status trailer.");
        Finish(status, MetadataCodec.FromHeaders(_response.TrailingHeaders));
        return status.Code == StatusCode.OK ? null : throw new RpcException(status, _trailers);
    }

    private HttpRequestMessage CreateRequest(HttpContent content)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, _channel.MethodUri(_method.Path))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        var headers = request.Headers;
        headers.TryAddWithoutValidation("te", "trailers");
        headers.TryAddWithoutValidation("user-agent", "microservices-grpc-dotnet/1.0");
        headers.TryAddWithoutValidation(GrpcHeaders.AcceptEncoding, MessageCompression.AcceptEncodingValue);
        if (_deadline is { } deadline)
        {
            headers.TryAddWithoutValidation(GrpcHeaders.Timeout, GrpcTimeout.Format(deadline - DateTime.UtcNow));
        }

        if (RequestEncoding is { } encoding)
        {
            headers.TryAddWithoutValidation(GrpcHeaders.Encoding, encoding);
        }

        foreach (var entry in _info.Headers)
        {
            headers.TryAddWithoutValidation(entry.Key, MetadataCodec.EncodeValue(entry));
        }

        // Continue the caller's trace: our client span if someone listens, else whatever is current.
        if ((_activity ?? Activity.Current) is { IdFormat: ActivityIdFormat.W3C } activity)
        {
            headers.TryAddWithoutValidation(GrpcHeaders.TraceParent, activity.Id);
            if (!string.IsNullOrEmpty(activity.TraceStateString))
            {
                headers.TryAddWithoutValidation(GrpcHeaders.TraceState, activity.TraceStateString);
            }
        }

        return request;
    }

    private string? RequestEncoding => _options.Compression is { } c && c != MessageCompression.Identity ? c : null;

    private byte[] Frame(TRequest message)
    {
        var buffer = new ArrayBufferWriter<byte>(GrpcHeaders.MessagePrefixLength + 64);
        MessageWriter.Write(buffer, message, RequestEncoding, CompressionLevel.Fastest, _channel.Options.MaxSendMessageSize);
        return buffer.WrittenSpan.ToArray();
    }

    private async ValueTask<(HttpMessageInvoker Invoker, Subchannel? Subchannel)> PickAsync()
    {
        try
        {
            return await _channel.PickAsync(_cancellation.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Fail(MapException(ex));
        }
    }

    private Status MapException(Exception exception)
    {
        // The timer may not have fired yet when the server, on its own clock, already ended the call.
        if (_deadlineCancellation?.IsCancellationRequested == true || _deadline <= DateTime.UtcNow)
        {
            return new Status(StatusCode.DeadlineExceeded, "Deadline exceeded.");
        }

        if (_cancellation.IsCancellationRequested)
        {
            return new Status(StatusCode.Cancelled, "The call was cancelled.");
        }

        for (var inner = exception; inner is not null; inner = inner.InnerException)
        {
            if (inner is HttpProtocolException protocol)
            {
                return ClientStatusMapping.FromHttp2Error(protocol.ErrorCode, $"The server reset the stream: {protocol.Message}");
            }
        }

        return exception switch
        {
            HttpRequestException http => new Status(StatusCode.Unavailable, $"Error connecting to {_channel.Address.Authority}: {http.Message}"),
            IOException io => new Status(StatusCode.Unavailable, $"The connection failed: {io.Message}"),
            OperationCanceledException => new Status(StatusCode.Cancelled, "The call was cancelled."),
            _ => new Status(StatusCode.Internal, $"Unexpected client error: {exception.Message}"),
        };
    }

    /// <summary>
    /// A write usually fails because the server ended the call (an error status while we were
    /// still sending): report the server's status, which arrives with the response, not the
    /// transport's "cancelled". Waits briefly for it; a reader elsewhere or the response itself sets it.
    /// </summary>
    private async Task<RpcException> WriteFailureAsync(Exception exception)
    {
        if (_status is null && !_cancellation.IsCancellationRequested)
        {
            await Task.WhenAny(_finishedSignal.Task, Task.Delay(ServerStatusGrace, _cancellation.Token)).ConfigureAwait(false);
        }

        return _status is { } status && status.Code != StatusCode.OK ? new RpcException(status, _trailers) : Fail(MapException(exception));
    }

    private void OnCancelled() => Finish(MapException(new OperationCanceledException()), []);

    private RpcException Fail(Status status)
    {
        Finish(status, _trailers);
        return new RpcException(status, _trailers);
    }

    private void Finish(Status status, Metadata trailers)
    {
        if (Interlocked.Exchange(ref _finished, 1) == 1)
        {
            return;
        }

        _status = status;
        _trailers = trailers;
        _responseHeaders.TrySetResult([]);
        _finishedSignal.TrySetResult();
        if (status.Code != StatusCode.OK)
        {
            // Stop the HTTP/2 stream (RST_STREAM) if it is still open.
            _cancellation.Cancel();
        }

        _response?.Dispose();

        _requestStream?.Abandon(new RpcException(status, trailers));
        foreach (var interceptor in _channel.Options.Interceptors)
        {
            interceptor.OnCallCompleted(_info, status, Stopwatch.GetElapsedTime(_started));
        }

        GrpcTelemetry.Stop(_activity, status);
        GrpcTelemetry.RecordClient(_method.ServiceName, _method.Name, status, Stopwatch.GetElapsedTime(_started));
    }

    private void ThrowIfFinished()
    {
        if (_status is { } status)
        {
            throw status.Code == StatusCode.OK
                ? new InvalidOperationException("The call has already finished.")
                : new RpcException(status, _trailers);
        }
    }

    private static Task Capture(Func<Task> start)
    {
        var task = start();
        // Failures surface through the reads and writes that await this task; don't let them go unobserved.
        _ = task.ContinueWith(static t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
        return task;
    }

    private static Metadata CopyHeaders(Metadata? headers)
    {
        var copy = new Metadata();
        if (headers is not null)
        {
            foreach (var entry in headers)
            {
                copy.Add(entry);
            }
        }

        return copy;
    }
}
