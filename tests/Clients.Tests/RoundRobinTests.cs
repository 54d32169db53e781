using System.Net;
using Microservices.Clients.Tests.Support;
using Microservices.Testing.V1;
using Microservices.TestSupport;

namespace Microservices.Clients.Tests;

public sealed class RoundRobinTests
{
    [Fact]
    public async Task Probe()
    {
        var name = Dns.GetHostName();
        var addresses = await Dns.GetHostAddressesAsync(name);
        var port = FreePort.Next();
        var hosts = new List<TestHost>();
        foreach (var a in addresses)
        {
            hosts.Add(await TestHost.StartAsync(a, port));
        }

        using var channel = GrpcChannels.Create($"dns:///{name}:{port}");
        var client = new TestService.TestServiceClient(channel);
        for (var i = 0; i < 40; i++)
        {
            await client.EmptyCallAsync(new Empty());
        }

        foreach (var h in hosts)
        {
            Console.WriteLine($"PROBE {h.Url} {h.Log.Calls.Count} {string.Join(",", h.Log.Calls.Select(c => c.LocalAddress).Distinct())}");
            await h.DisposeAsync();
        }
    }
}
