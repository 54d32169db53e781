namespace Microservices.Grpc.Client;

/// <summary>What an interceptor sees of a client call.</summary>
public sealed class ClientCallInfo(string path, MethodType type, Metadata headers)
{
    public string Path { get; } = path;

    public MethodType Type { get; } = type;

    /// <summary>Request metadata; interceptors may add to it (credentials, request ids) before the call is sent.</summary>
    public Metadata Headers { get; } = headers;
}

/// <summary>
/// Observes every call a channel makes: before it is sent (add metadata, or throw an RpcException
/// to refuse it) and once when it ends with its final status (logging, metrics).
/// </summary>
public interface IClientInterceptor
{
    void OnCallStarting(ClientCallInfo call);

    void OnCallCompleted(ClientCallInfo call, Status status, TimeSpan elapsed);
}
