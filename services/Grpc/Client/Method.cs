using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Microservices.Grpc.Client;

/// <summary>A callable method: its path, kind and how to read its responses. Built from a protobuf descriptor.</summary>
public sealed class Method<TRequest, TResponse>
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    public Method(string serviceName, string name, MethodType type, MessageParser<TResponse> responseParser, bool idempotent = false)
    {
        ServiceName = serviceName;
        Name = name;
        Type = type;
        ResponseParser = responseParser;
        IsIdempotent = idempotent;
        Path = "/" + serviceName + "/" + name;
    }

    public string ServiceName { get; }

    public string Name { get; }

    /// <summary>"/package.Service/Method", the HTTP/2 :path of the call.</summary>
    public string Path { get; }

    public MethodType Type { get; }

    public MessageParser<TResponse> ResponseParser { get; }

    /// <summary>From the proto's <c>option idempotency_level</c>: such calls may be retried on UNAVAILABLE.</summary>
    public bool IsIdempotent { get; }

    /// <summary>The method named <paramref name="name"/> of <paramref name="service"/>, checked against the CLR types.</summary>
    public static Method<TRequest, TResponse> Of(ServiceDescriptor service, string name)
    {
        var method = service.FindMethodByName(name)
            ?? throw new ArgumentException($"Service {service.FullName} has no method '{name}'.", nameof(name));
        if (method.InputType.ClrType != typeof(TRequest) || method.OutputType.ClrType != typeof(TResponse))
        {
            throw new ArgumentException(
                $"{service.FullName}.{name} takes {method.InputType.ClrType.Name} and returns {method.OutputType.ClrType.Name}, not {typeof(TRequest).Name} → {typeof(TResponse).Name}.");
        }

        var type = (method.IsClientStreaming, method.IsServerStreaming) switch
        {
            (false, false) => MethodType.Unary,
            (true, false) => MethodType.ClientStreaming,
            (false, true) => MethodType.ServerStreaming,
            (true, true) => MethodType.DuplexStreaming,
        };
        var level = method.GetOptions()?.IdempotencyLevel ?? MethodOptions.Types.IdempotencyLevel.IdempotencyUnknown;
        var idempotent = level is MethodOptions.Types.IdempotencyLevel.Idempotent or MethodOptions.Types.IdempotencyLevel.NoSideEffects;
        return new Method<TRequest, TResponse>(service.FullName, name, type, (MessageParser<TResponse>)method.OutputType.Parser, idempotent);
    }
}
