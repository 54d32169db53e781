using System.Net;
using Google.Protobuf;

namespace Microservices.Grpc.Client;

/// <summary>
/// A client's connection to a service address ("http://host:port" for h2c, "https://..." for TLS),
/// balanced round-robin over every address the host resolves to. Thread-safe; share one per target.
/// </summary>
public sealed class GrpcChannel : IDisposable
{
    private readonly RoundRobinBalancer? _balancer;
    private readonly HttpMessageInvoker? _fixedInvoker;

    private GrpcChannel(Uri address, GrpcChannelOptions options)
    {
        Address = address;
        Options = options;
        RetryBudget = new RetryBudget(options.Retry);
        if (options.HttpHandler is { } handler)
        {
            _fixedInvoker = new HttpMessageInvoker(handler, disposeHandler: false);
        }
        else
        {
            _balancer = new RoundRobinBalancer(address.IdnHost, address.Port, options);
        }
    }

    public Uri Address { get; }

    /// <summary>The addresses calls are currently spread over.</summary>
    public IReadOnlyList<IPEndPoint> EndPoints => _balancer?.EndPoints ?? [];

    internal GrpcChannelOptions Options { get; }

    internal RetryBudget RetryBudget { get; }

    public static GrpcChannel ForAddress(string address, GrpcChannelOptions? options = null)
    {
        var uri = new Uri(address, UriKind.Absolute);
        if (uri.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"Address '{address}' must start with http:// (h2c) or https:// (TLS).", nameof(address));
        }

        return new GrpcChannel(uri, options ?? new GrpcChannelOptions());
    }

    /// <summary>Resolves the target's name again now instead of at the next periodic refresh.</summary>
    public Task RefreshAddressesAsync(CancellationToken cancellationToken = default) =>
        _balancer?.RefreshAsync(cancellationToken) ?? Task.CompletedTask;

    public AsyncUnaryCall<TResponse> UnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        var call = new RetryingUnaryCall<TRequest, TResponse>(this, method, options);
        return new AsyncUnaryCall<TResponse>(call.RunAsync(request), call);
    }

    public Task<TResponse> UnaryAsync<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        UnaryCall(method, request, options).ResponseAsync;

    public AsyncServerStreamingCall<TResponse> ServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        var call = new ClientCall<TRequest, TResponse>(this, method, options);
        call.StartServerStreamingWith(request);
        return new AsyncServerStreamingCall<TResponse>(call, call);
    }

    public AsyncClientStreamingCall<TRequest, TResponse> ClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        var call = new ClientCall<TRequest, TResponse>(this, method, options);
        call.StartStreaming();
        var response = call.ReadSingleResponseAsync();
        return new AsyncClientStreamingCall<TRequest, TResponse>(call, response, call);
    }

    public AsyncDuplexStreamingCall<TRequest, TResponse> DuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        var call = new ClientCall<TRequest, TResponse>(this, method, options);
        call.StartStreaming();
        return new AsyncDuplexStreamingCall<TRequest, TResponse>(call, call, call);
    }

    public void Dispose()
    {
        _balancer?.Dispose();
        _fixedInvoker?.Dispose();
    }

    internal Uri MethodUri(string path) => new(Address, path);

    internal async ValueTask<(HttpMessageInvoker Invoker, Subchannel? Subchannel)> PickAsync(CancellationToken cancellationToken)
    {
        if (_fixedInvoker is not null)
        {
            return (_fixedInvoker, null);
        }

        var subchannel = await _balancer!.PickAsync(cancellationToken).ConfigureAwait(false);
        return (subchannel.Invoker, subchannel);
    }

    internal void ReportConnectFailure(Subchannel subchannel) => _balancer?.ReportConnectFailure(subchannel);
}
