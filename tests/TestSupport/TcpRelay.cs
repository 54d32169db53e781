using System.Net;
using System.Net.Sockets;

namespace Microservices.TestSupport;

/// <summary>
/// A TCP relay in front of several servers, as a balancer that spreads connections: each new
/// connection goes to the next server in turn. The first connection can be cut (reset) once the
/// client has sent a number of bytes through it: a connection dropped in the middle of a call,
/// after which the client's reconnect reaches another server.
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly IReadOnlyList<int> _ports;
    private readonly long _cutFirstAfterBytes;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _pumps = [];
    private readonly Task _accepting;
    private int _connections;

    private TcpRelay(IReadOnlyList<int> ports, long cutFirstAfterBytes)
    {
        _ports = ports;
        _cutFirstAfterBytes = cutFirstAfterBytes;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    public static TcpRelay Start(IReadOnlyList<int> ports, long cutFirstAfterBytes = long.MaxValue) => new(ports, cutFirstAfterBytes);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception error) when (error is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            var number = Interlocked.Increment(ref _connections) - 1;
            lock (_pumps)
            {
                _pumps.Add(RelayAsync(client, _ports[number % _ports.Count], number == 0 ? _cutFirstAfterBytes : long.MaxValue));
            }
        }
    }

    private async Task RelayAsync(Socket client, int port, long cutAfter)
    {
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using (client)
        {
            try
            {
                await server.ConnectAsync(IPAddress.Loopback, port, _stop.Token);
                using var done = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                await Task.WhenAny(PumpAsync(client, server, cutAfter, done.Token), PumpAsync(server, client, long.MaxValue, done.Token));
                await done.CancelAsync();
            }
            catch (Exception error) when (error is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }

            // A reset, not a polite close: what a dropped connection looks like to both ends.
            client.LingerState = new LingerOption(true, 0);
            server.LingerState = new LingerOption(true, 0);
        }
    }

    private static async Task PumpAsync(Socket from, Socket to, long cutAfter, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        long sent = 0;
        try
        {
            while (sent < cutAfter)
            {
                var read = await from.ReceiveAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, cutAfter - sent)), SocketFlags.None, cancellationToken);
                if (read == 0)
                {
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, cancellationToken);
                sent += read;
            }
        }
        catch (Exception error) when (error is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        Task[] pumps;
        lock (_pumps)
        {
            pumps = [.. _pumps];
        }

        await Task.WhenAll(pumps);
        _stop.Dispose();
    }
}
