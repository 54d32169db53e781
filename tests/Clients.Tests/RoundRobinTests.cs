using System.Diagnostics.Metrics;
using System.Net;
using Microservices.Clients.Tests.Support;
using Microservices.Hosting.Clients;
using Microservices.Testing.V1;
using Microservices.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Microservices.Clients.Tests;

/// <summary>
/// <c>dns:///name:port</c> as a headless Service gives it: one host per address the name resolves
/// to, all on the same port. The machine's own host name is the name used: .NET resolves it to
/// every interface address (here 127.0.0.1, 192.0.2.2, fd00::2 and a link-local fe80::), while
/// <c>localhost</c> resolves only to 127.0.0.1 on this machine (no ::1 line in /etc/hosts).
/// The tests share one collection because the re-resolution test counts lookups of that name.
/// </summary>
[Collection(nameof(HostNameResolution))]
public sealed class RoundRobinTests
{
    [Fact]
    public async Task Calls_are_spread_round_robin_over_every_address_the_name_resolves_to()
    {
        var (name, hosts) = await HostNameResolution.StartOnEveryAddressAsync();
        await using var _ = new Hosts(hosts);
        using var channel = GrpcChannels.Create($"dns:///{name}:{hosts[0].Port}");
        var client = new TestService.TestServiceClient(channel);

        await CallUntilEveryHostIsReachedAsync(client, hosts);
        await AssertRoundRobinAsync(client, hosts);
    }

    [Fact]
    public async Task A_name_is_resolved_again_while_the_channel_lives()
    {
        var (name, hosts) = await HostNameResolution.StartOnEveryAddressAsync();
        await using var _ = new Hosts(hosts);
        using var lookups = new LookupCounter(name);
        using var channel = GrpcChannels.Create(new GrpcClientOptions
        {
            Address = $"dns:///{name}:{hosts[0].Port}",
            DnsRefreshInterval = TimeSpan.FromSeconds(1),
        });

        await AssertResolvedAgainAsync(new TestService.TestServiceClient(channel), lookups, name);
    }

    [Fact]
    public async Task An_injected_client_is_resolved_again_at_the_interval_of_its_own_section()
    {
        var (name, hosts) = await HostNameResolution.StartOnEveryAddressAsync();
        await using var _ = new Hosts(hosts);
        var address = $"dns:///{name}:{hosts[0].Port}";

        // Registered first, with refresh off: its setting must not become every client's.
        await using var relay = await TestHost.StartAsync<RecordingService>(
            settings: new Dictionary<string, string?>
            {
                ["Clients:Other:Address"] = address,
                ["Clients:Other:DnsRefreshInterval"] = "-00:00:00.001",
                ["Clients:Test:Address"] = address,
                ["Clients:Test:DnsRefreshInterval"] = "00:00:01",
            },
            services: (services, configuration) =>
            {
                services.AddServiceClient<UnimplementedService.UnimplementedServiceClient>(configuration.GetSection("Clients:Other"));
                services.AddServiceClient<TestService.TestServiceClient>(configuration.GetSection("Clients:Test"));
            });
        using var lookups = new LookupCounter(name);

        await AssertResolvedAgainAsync(relay.App.Services.GetRequiredService<TestService.TestServiceClient>(), lookups, name);
    }

    [Fact]
    public async Task An_address_that_refused_at_first_gets_calls_once_it_listens()
    {
        var (name, addresses, port) = await HostNameResolution.FreePortOnEveryAddressAsync();
        var hosts = new List<TestHost>();
        await using var _ = new Hosts(hosts);
        foreach (var address in addresses[..^1])
        {
            hosts.Add(await TestHost.StartAsync(address, port));
        }

        using var channel = GrpcChannels.Create($"dns:///{name}:{port}");
        var client = new TestService.TestServiceClient(channel);
        await CallUntilEveryHostIsReachedAsync(client, hosts);

        // The pod that was not up yet starts: its subchannel reconnects and joins the rotation.
        var late = await TestHost.StartAsync(addresses[^1], port);
        hosts.Add(late);
        await CallUntilEveryHostIsReachedAsync(client, hosts, TimeSpan.FromSeconds(120));
        await AssertRoundRobinAsync(client, hosts);
    }

    [Fact]
    public async Task A_host_that_goes_away_stops_getting_calls_and_no_idempotent_call_fails()
    {
        var (name, hosts) = await HostNameResolution.StartOnEveryAddressAsync();
        await using var _ = new Hosts(hosts);
        using var channel = GrpcChannels.Create($"dns:///{name}:{hosts[0].Port}");
        var client = new TestService.TestServiceClient(channel);
        await CallUntilEveryHostIsReachedAsync(client, hosts);

        var gone = hosts[0];
        hosts.RemoveAt(0);
        await gone.DisposeAsync();
        foreach (var host in hosts)
        {
            host.Log.Clear();
        }

        for (var i = 0; i < 10 * hosts.Count; i++)
        {
            await client.EmptyCallAsync(new Empty());
        }

        Assert.Equal(10 * hosts.Count, hosts.Sum(h => h.Log.Count("EmptyCall")));
        await AssertRoundRobinAsync(client, hosts);
    }

    [Fact]
    public async Task Localhost_works_as_an_http_and_as_a_dns_address()
    {
        await using var host = await TestHost.StartAsync();
        using var http = GrpcChannels.Create($"http://localhost:{host.Port}");
        using var dns = GrpcChannels.Create($"dns:///localhost:{host.Port}");

        await new TestService.TestServiceClient(http).EmptyCallAsync(new Empty());
        await new TestService.TestServiceClient(dns).EmptyCallAsync(new Empty());

        Assert.Equal(2, host.Log.Count("EmptyCall"));
        Assert.All(host.Log.Calls, call => Assert.Equal(IPAddress.Loopback, call.LocalAddress));
    }

    private static async Task AssertResolvedAgainAsync(TestService.TestServiceClient client, LookupCounter lookups, string name)
    {
        await client.EmptyCallAsync(new Empty());
        var first = lookups.Count;
        Assert.True(first >= 1, "the first call resolves the name");

        // No call is made and no connection fails: only the refresh timer can ask the OS again
        // (grpc-dotnet's default resolver never would). It waits 15 s between two resolutions at least.
        await Eventually.HoldsAsync(() => lookups.Count > first, $"{name} was looked up again", TimeSpan.FromSeconds(60));
        await client.EmptyCallAsync(new Empty());
    }

    private static async Task CallUntilEveryHostIsReachedAsync(
        TestService.TestServiceClient client,
        IReadOnlyList<TestHost> hosts,
        TimeSpan? timeout = null)
    {
        // Subchannels become ready one by one; until all are, round robin picks among fewer.
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (hosts.Any(h => h.Log.Count("EmptyCall") == 0))
        {
            Assert.True(DateTime.UtcNow < deadline, "every host received a call in time");
            await client.EmptyCallAsync(new Empty());
            await Task.Delay(10);
        }
    }

    private static async Task AssertRoundRobinAsync(TestService.TestServiceClient client, IReadOnlyList<TestHost> hosts)
    {
        foreach (var host in hosts)
        {
            host.Log.Clear();
        }

        for (var i = 0; i < 10 * hosts.Count; i++)
        {
            await client.EmptyCallAsync(new Empty());
        }

        Assert.All(hosts, host => Assert.Equal(10, host.Log.Count("EmptyCall")));
    }

    private sealed class Hosts(List<TestHost> hosts) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            foreach (var host in hosts)
            {
                await host.DisposeAsync();
            }
        }
    }

    /// <summary>Counts the OS lookups of one name through .NET's own name-resolution metrics.</summary>
    private sealed class LookupCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private int _count;

        public LookupCounter(string name)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "System.Net.NameResolution" && instrument.Name == "dns.lookup.duration")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "dns.question.name" && string.Equals(tag.Value as string, name, StringComparison.OrdinalIgnoreCase))
                    {
                        Interlocked.Increment(ref _count);
                    }
                }
            });
            _listener.Start();
        }

        public int Count => Volatile.Read(ref _count);

        public void Dispose() => _listener.Dispose();
    }
}

[CollectionDefinition(nameof(HostNameResolution), DisableParallelization = true)]
public sealed class HostNameResolution
{
    internal static async Task<(string Name, IPAddress[] Addresses, int Port)> FreePortOnEveryAddressAsync()
    {
        var name = Dns.GetHostName();
        var addresses = await Dns.GetHostAddressesAsync(name);
        Assert.True(addresses.Length >= 2, $"'{name}' resolves to {addresses.Length} address(es); these tests need a name with several.");
        for (var attempt = 0; ; attempt++)
        {
            var port = FreePort.Next();
            if (addresses.All(a => IsFree(a, port)) || attempt == 10)
            {
                return (name, addresses, port);
            }
        }
    }

    internal static async Task<(string Name, List<TestHost> Hosts)> StartOnEveryAddressAsync()
    {
        var (name, addresses, port) = await FreePortOnEveryAddressAsync();
        var hosts = new List<TestHost>();
        foreach (var address in addresses)
        {
            hosts.Add(await TestHost.StartAsync(address, port));
        }

        return (name, hosts);
    }

    private static bool IsFree(IPAddress address, int port)
    {
        try
        {
            using var listener = new System.Net.Sockets.TcpListener(address, port);
            listener.Start();
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }
}
