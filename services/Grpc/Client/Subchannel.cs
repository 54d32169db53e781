using System.Net;
using System.Net.Sockets;

namespace Microservices.Grpc.Client;

/// <summary>
/// The connections to one resolved address: its own SocketsHttpHandler, whose connect callback
/// always dials that address while requests keep the target's name (for :authority and TLS SNI).
/// </summary>
internal sealed class Subchannel : IDisposable
{
    private long _unhealthyUntilTicks;

    public Subchannel(IPEndPoint endPoint, GrpcChannelOptions options)
    {
        EndPoint = endPoint;
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = options.EnableMultipleHttp2Connections,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            // Notice a dead peer (a pod that vanished) without waiting for TCP timeouts.
            KeepAlivePingDelay = TimeSpan.FromSeconds(60),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            InitialHttp2StreamWindowSize = 1024 * 1024,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            UseProxy = false,
            ConnectCallback = ConnectAsync,
        };
        if (options.ServerCertificateValidation is { } validation)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = validation;
        }

        Invoker = new HttpMessageInvoker(handler, disposeHandler: true);
    }

    public IPEndPoint EndPoint { get; }

    public HttpMessageInvoker Invoker { get; }

    public bool IsHealthy => Environment.TickCount64 >= Interlocked.Read(ref _unhealthyUntilTicks);

    /// <summary>A connect failure keeps this address out of the rotation for a while.</summary>
    public void MarkUnhealthy(TimeSpan duration) =>
        Interlocked.Exchange(ref _unhealthyUntilTicks, Environment.TickCount64 + (long)duration.TotalMilliseconds);

    public void Dispose() => Invoker.Dispose();

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(EndPoint, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
