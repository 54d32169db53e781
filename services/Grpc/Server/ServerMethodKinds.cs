using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Microservices.Grpc.Server;

internal sealed class UnaryServerMethod<TService, TRequest, TResponse>(
    MethodDescriptor descriptor,
    Func<TService, TRequest, ServerCallContext, Task<TResponse>> invoke) : ServerMethod(descriptor)
    where TService : notnull
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    private readonly MessageParser<TRequest> _parser = (MessageParser<TRequest>)descriptor.InputType.Parser;

    public override async Task InvokeAsync(ServerCall call)
    {
        var request = await call.ReadSingleRequestAsync(_parser).ConfigureAwait(false);
        var response = await invoke(Resolve<TService>(call), request, call.Context).ConfigureAwait(false);
        await call.WriteMessageAsync(response, default, flush: false).ConfigureAwait(false);
    }
}

internal sealed class ServerStreamingServerMethod<TService, TRequest, TResponse>(
    MethodDescriptor descriptor,
    Func<TService, TRequest, IServerStreamWriter<TResponse>, ServerCallContext, Task> invoke) : ServerMethod(descriptor)
    where TService : notnull
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    private readonly MessageParser<TRequest> _parser = (MessageParser<TRequest>)descriptor.InputType.Parser;

    public override async Task InvokeAsync(ServerCall call)
    {
        var request = await call.ReadSingleRequestAsync(_parser).ConfigureAwait(false);
        await invoke(Resolve<TService>(call), request, new ResponseStreamWriter<TResponse>(call), call.Context).ConfigureAwait(false);
    }
}

internal sealed class ClientStreamingServerMethod<TService, TRequest, TResponse>(
    MethodDescriptor descriptor,
    Func<TService, IAsyncStreamReader<TRequest>, ServerCallContext, Task<TResponse>> invoke) : ServerMethod(descriptor)
    where TService : notnull
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    private readonly MessageParser<TRequest> _parser = (MessageParser<TRequest>)descriptor.InputType.Parser;

    public override async Task InvokeAsync(ServerCall call)
    {
        var reader = new RequestStreamReader<TRequest>(call, _parser);
        var response = await invoke(Resolve<TService>(call), reader, call.Context).ConfigureAwait(false);
        await call.WriteMessageAsync(response, default, flush: false).ConfigureAwait(false);
    }
}

internal sealed class DuplexStreamingServerMethod<TService, TRequest, TResponse>(
    MethodDescriptor descriptor,
    Func<TService, IAsyncStreamReader<TRequest>, IServerStreamWriter<TResponse>, ServerCallContext, Task> invoke) : ServerMethod(descriptor)
    where TService : notnull
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    private readonly MessageParser<TRequest> _parser = (MessageParser<TRequest>)descriptor.InputType.Parser;

    public override Task InvokeAsync(ServerCall call) =>
        invoke(Resolve<TService>(call), new RequestStreamReader<TRequest>(call, _parser), new ResponseStreamWriter<TResponse>(call), call.Context);
}

internal sealed class RequestStreamReader<T>(ServerCall call, MessageParser<T> parser) : IAsyncStreamReader<T>
    where T : class, IMessage<T>
{
    private T? _current;

    public T Current => _current ?? throw new InvalidOperationException("MoveNext has not returned true.");

    public async Task<bool> MoveNext(CancellationToken cancellationToken = default)
    {
        _current = await call.ReadRequestAsync(parser, cancellationToken).ConfigureAwait(false);
        return _current is not null;
    }
}

internal sealed class ResponseStreamWriter<T>(ServerCall call) : IServerStreamWriter<T>
    where T : class, IMessage<T>
{
    public Task WriteAsync(T message, CancellationToken cancellationToken = default) =>
        call.WriteMessageAsync(message, cancellationToken);
}
