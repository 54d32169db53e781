namespace Microservices.Grpc;

/// <summary>Writes response messages from a server handler; one write at a time.</summary>
public interface IServerStreamWriter<in T>
{
    Task WriteAsync(T message, CancellationToken cancellationToken = default);
}

/// <summary>Writes request messages from a client; CompleteAsync half-closes the request stream.</summary>
public interface IClientStreamWriter<in T>
{
    Task WriteAsync(T message, CancellationToken cancellationToken = default);

    Task CompleteAsync();
}
