using System.Net;

namespace Microservices.Grpc.Client;

/// <summary>
/// A request body written while the call runs (client and duplex streaming): HttpClient hands
/// us its stream and the body stays open until the writer completes it.
/// </summary>
internal sealed class PushStreamContent : HttpContent
{
    private readonly TaskCompletionSource<Stream> _stream = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<Stream> StreamTask => _stream.Task;

    /// <summary>Ends the request stream (HTTP/2 END_STREAM: the client half-closes).</summary>
    public void Complete() => _completed.TrySetResult();

    /// <summary>The call ended before or while the body was being written.</summary>
    public void Abandon(Exception reason)
    {
        _stream.TrySetException(reason);
        _completed.TrySetResult();
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        _stream.TrySetResult(stream);
        return _completed.Task;
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}
