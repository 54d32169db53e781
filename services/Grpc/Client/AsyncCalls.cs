using System.Runtime.CompilerServices;

namespace Microservices.Grpc.Client;

/// <summary>A unary call in flight: await it (or ResponseAsync) for the response; headers, status and trailers after.</summary>
public sealed class AsyncUnaryCall<TResponse> : IDisposable
{
    private readonly Func<Status> _status;
    private readonly Func<Metadata> _trailers;
    private readonly Action _dispose;

    internal AsyncUnaryCall(Task<TResponse> response, Task<Metadata> headers, Func<Status> status, Func<Metadata> trailers, Action dispose)
    {
        ResponseAsync = response;
        ResponseHeadersAsync = headers;
        _status = status;
        _trailers = trailers;
        _dispose = dispose;
    }

    public Task<TResponse> ResponseAsync { get; }

    public Task<Metadata> ResponseHeadersAsync { get; }

    public TaskAwaiter<TResponse> GetAwaiter() => ResponseAsync.GetAwaiter();

    public Status GetStatus() => _status();

    public Metadata GetTrailers() => _trailers();

    public void Dispose() => _dispose();
}

/// <summary>A server-streaming call: read ResponseStream until MoveNext returns false.</summary>
public sealed class AsyncServerStreamingCall<TResponse> : IDisposable
{
    private readonly IDisposable _call;
    private readonly Func<Status> _status;
    private readonly Func<Metadata> _trailers;

    internal AsyncServerStreamingCall(IAsyncStreamReader<TResponse> responseStream, Task<Metadata> headers, Func<Status> status, Func<Metadata> trailers, IDisposable call)
    {
        ResponseStream = responseStream;
        ResponseHeadersAsync = headers;
        _status = status;
        _trailers = trailers;
        _call = call;
    }

    public IAsyncStreamReader<TResponse> ResponseStream { get; }

    public Task<Metadata> ResponseHeadersAsync { get; }

    public Status GetStatus() => _status();

    public Metadata GetTrailers() => _trailers();

    /// <summary>Cancels the call if it is still running.</summary>
    public void Dispose() => _call.Dispose();
}

/// <summary>A client-streaming call: write requests, complete, then await the response.</summary>
public sealed class AsyncClientStreamingCall<TRequest, TResponse> : IDisposable
{
    private readonly IDisposable _call;
    private readonly Func<Status> _status;
    private readonly Func<Metadata> _trailers;

    internal AsyncClientStreamingCall(IClientStreamWriter<TRequest> requestStream, Task<TResponse> response, Task<Metadata> headers, Func<Status> status, Func<Metadata> trailers, IDisposable call)
    {
        RequestStream = requestStream;
        ResponseAsync = response;
        ResponseHeadersAsync = headers;
        _status = status;
        _trailers = trailers;
        _call = call;
    }

    public IClientStreamWriter<TRequest> RequestStream { get; }

    public Task<TResponse> ResponseAsync { get; }

    public Task<Metadata> ResponseHeadersAsync { get; }

    public TaskAwaiter<TResponse> GetAwaiter() => ResponseAsync.GetAwaiter();

    public Status GetStatus() => _status();

    public Metadata GetTrailers() => _trailers();

    public void Dispose() => _call.Dispose();
}

/// <summary>A bidirectional call: write RequestStream and read ResponseStream independently.</summary>
public sealed class AsyncDuplexStreamingCall<TRequest, TResponse> : IDisposable
{
    private readonly IDisposable _call;
    private readonly Func<Status> _status;
    private readonly Func<Metadata> _trailers;

    internal AsyncDuplexStreamingCall(IClientStreamWriter<TRequest> requestStream, IAsyncStreamReader<TResponse> responseStream, Task<Metadata> headers, Func<Status> status, Func<Metadata> trailers, IDisposable call)
    {
        RequestStream = requestStream;
        ResponseStream = responseStream;
        ResponseHeadersAsync = headers;
        _status = status;
        _trailers = trailers;
        _call = call;
    }

    public IClientStreamWriter<TRequest> RequestStream { get; }

    public IAsyncStreamReader<TResponse> ResponseStream { get; }

    public Task<Metadata> ResponseHeadersAsync { get; }

    public Status GetStatus() => _status();

    public Metadata GetTrailers() => _trailers();

    public void Dispose() => _call.Dispose();
}
