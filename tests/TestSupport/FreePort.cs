using System.Net;
using System.Net.Sockets;

namespace Microservices.TestSupport;

/// <summary>Free TCP ports on loopback for dependencies the tests start themselves.</summary>
public static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
