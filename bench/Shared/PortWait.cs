using System.Diagnostics;
using System.Net.Sockets;

namespace Microservices.Bench;

/// <summary>
/// Waits until a service a bench run started listens on loopback, and stops waiting as soon as
/// its process has exited. Shared by the bench drivers as a linked source file (bench/Shared).
/// </summary>
internal static class PortWait
{
    /// <param name="lastOutput">The service's last output lines, for the error.</param>
    public static async Task UntilListeningAsync(Process process, string name, int port, TimeSpan timeout, Func<string> lastOutput)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{name} exited with {process.ExitCode} before listening on {port}:\n{lastOutput()}");
            }

            try
            {
                using var socket = new TcpClient();
                await socket.ConnectAsync("127.0.0.1", port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        throw new TimeoutException($"{name} not listening on {port} after {timeout.TotalSeconds} s:\n{lastOutput()}");
    }
}
