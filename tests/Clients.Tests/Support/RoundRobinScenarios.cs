using System.Net;
using System.Text.Json;
using Grpc.Core;
using Microservices.Hosting.Clients;
using Microservices.Testing.V1;
using Microservices.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Microservices.Clients.Tests.Support;

internal enum RoundRobinScenario
{
    Spread,
    HostGoesAway,
    LateListener,
    ChannelResolvesAgain,
    InjectedClientResolvesAgain,
}

/// <summary>Calls made in one phase of a scenario: how many each host received, how many failed.</summary>
internal sealed record CallRound(string Phase, Dictionary<string, int> CallsPerHost, int Failed);

/// <summary>What a scenario saw in its namespace, for the test outside to assert on.</summary>
internal sealed record RoundRobinReport(string[] Resolved, List<CallRound> Rounds, int LookupsAtFirstCall, int LookupsAtEnd);

/// <summary>
/// <c>dns:///name:port</c> as a headless Service gives it: one host per address the name resolves
/// to, all on the same port. Each scenario runs in a child process inside a network namespace
/// the test made (<see cref="NetworkNamespace"/>), where the name resolves to loopback addresses
/// only: hosts, client and traffic never leave that namespace's <c>lo</c>.
/// </summary>
internal static class RoundRobinScenarios
{
    public const string Command = "round-robin";
    private const string ReportLine = "round-robin-report: ";
    private static readonly TimeSpan ScenarioTimeout = TimeSpan.FromMinutes(5);

    /// <summary>The test's side: a fresh namespace where <paramref name="name"/> resolves to <paramref name="addresses"/>.</summary>
    public static async Task<RoundRobinReport> RunInNamespaceAsync(RoundRobinScenario scenario, string name, IReadOnlyList<IPAddress> addresses)
    {
        await using var network = await NetworkNamespace.CreateAsync(name, addresses);
        var (exitCode, output) = await network.RunAsync(
            DotnetHost(),
            [typeof(RoundRobinScenarios).Assembly.Location, Command, scenario.ToString(), name],
            ScenarioTimeout);
        var report = output.Split('\n')
            .Select(line => line.TrimEnd('\r'))
            .LastOrDefault(line => line.StartsWith(ReportLine, StringComparison.Ordinal));
        if (exitCode != 0 || report is null)
        {
            throw new InvalidOperationException(
                $"Scenario {scenario} in network namespace {network.Name} exited with {exitCode} and {(report is null ? "no" : "a")} report. Output:\n{output}");
        }

        return JsonSerializer.Deserialize<RoundRobinReport>(report[ReportLine.Length..])
            ?? throw new InvalidOperationException($"Scenario {scenario} reported null.");
    }

    /// <summary>The child's side, inside the namespace (see <see cref="Program"/>).</summary>
    public static async Task<int> RunHereAsync(string scenario, string name)
    {
        var addresses = await Dns.GetHostAddressesAsync(name);
        var port = FreePort.Next();
        var report = Enum.Parse<RoundRobinScenario>(scenario) switch
        {
            RoundRobinScenario.Spread => await SpreadAsync(name, addresses, port),
            RoundRobinScenario.HostGoesAway => await HostGoesAwayAsync(name, addresses, port),
            RoundRobinScenario.LateListener => await LateListenerAsync(name, addresses, port),
            RoundRobinScenario.ChannelResolvesAgain => await ChannelResolvesAgainAsync(name, addresses, port),
            RoundRobinScenario.InjectedClientResolvesAgain => await InjectedClientResolvesAgainAsync(name, addresses, port),
            var other => throw new ArgumentOutOfRangeException(nameof(scenario), other, "unknown scenario"),
        };
        Console.WriteLine(ReportLine + JsonSerializer.Serialize(report));
        return 0;
    }

    private static async Task<RoundRobinReport> SpreadAsync(string name, IPAddress[] addresses, int port)
    {
        await using var hosts = await Hosts.StartAsync(addresses, port);
        using var channel = GrpcChannels.Create($"dns:///{name}:{port}");
        var client = new TestService.TestServiceClient(channel);

        await CallUntilEveryHostIsReachedAsync(client, hosts.Started);
        return Report(addresses, await RoundAsync("round robin", client, hosts.Started));
    }

    private static async Task<RoundRobinReport> HostGoesAwayAsync(string name, IPAddress[] addresses, int port)
    {
        await using var hosts = await Hosts.StartAsync(addresses, port);
        using var channel = GrpcChannels.Create($"dns:///{name}:{port}");
        var client = new TestService.TestServiceClient(channel);
        await CallUntilEveryHostIsReachedAsync(client, hosts.Started);

        var gone = hosts.Started[0];
        hosts.Started.RemoveAt(0);
        await gone.DisposeAsync();

        // The stopped host's log is still counted: it must show no call at all.
        List<TestHost> counted = [gone, .. hosts.Started];
        var afterStop = await RoundAsync("after one host stopped", client, counted, 10 * hosts.Started.Count);
        var roundRobin = await RoundAsync("round robin over the rest", client, counted, 10 * hosts.Started.Count);
        return Report(addresses, afterStop, roundRobin);
    }

    private static async Task<RoundRobinReport> LateListenerAsync(string name, IPAddress[] addresses, int port)
    {
        await using var hosts = await Hosts.StartAsync(addresses[..^1], port);
        using var channel = GrpcChannels.Create($"dns:///{name}:{port}");
        var client = new TestService.TestServiceClient(channel);
        await CallUntilEveryHostIsReachedAsync(client, hosts.Started);
        var refused = await RoundAsync("while the last address refuses", client, hosts.Started);

        // The pod that was not up yet starts: its subchannel reconnects and joins the rotation.
        hosts.Started.Add(await TestHost.StartAsync(addresses[^1], port));
        await CallUntilEveryHostIsReachedAsync(client, hosts.Started, TimeSpan.FromSeconds(120));
        return Report(addresses, refused, await RoundAsync("round robin once it listens", client, hosts.Started));
    }

    private static async Task<RoundRobinReport> ChannelResolvesAgainAsync(string name, IPAddress[] addresses, int port)
    {
        await using var hosts = await Hosts.StartAsync(addresses, port);
        using var lookups = new LookupCounter(name);
        using var channel = GrpcChannels.Create(new GrpcClientOptions
        {
            Address = $"dns:///{name}:{port}",
            DnsRefreshInterval = TimeSpan.FromSeconds(1),
        });

        return await ResolvedAgainAsync(new TestService.TestServiceClient(channel), lookups, addresses, hosts.Started);
    }

    private static async Task<RoundRobinReport> InjectedClientResolvesAgainAsync(string name, IPAddress[] addresses, int port)
    {
        await using var hosts = await Hosts.StartAsync(addresses, port);
        var address = $"dns:///{name}:{port}";

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

        return await ResolvedAgainAsync(relay.App.Services.GetRequiredService<TestService.TestServiceClient>(), lookups, addresses, hosts.Started);
    }

    private static async Task<RoundRobinReport> ResolvedAgainAsync(
        TestService.TestServiceClient client,
        LookupCounter lookups,
        IPAddress[] addresses,
        List<TestHost> hosts)
    {
        await client.EmptyCallAsync(new Empty());
        var first = lookups.Count;

        // No call is made and no connection fails: only the refresh timer can ask the OS again
        // (grpc-dotnet's default resolver never would). It waits 15 s between two resolutions at least.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (lookups.Count <= first && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        var later = lookups.Count;
        await CallUntilEveryHostIsReachedAsync(client, hosts);
        return Report(addresses, await RoundAsync("round robin after the lookups", client, hosts)) with
        {
            LookupsAtFirstCall = first,
            LookupsAtEnd = later,
        };
    }

    private static RoundRobinReport Report(IPAddress[] resolved, params CallRound[] rounds) =>
        new([.. resolved.Select(a => a.ToString())], [.. rounds], 0, 0);

    private static async Task CallUntilEveryHostIsReachedAsync(
        TestService.TestServiceClient client,
        IReadOnlyList<TestHost> hosts,
        TimeSpan? timeout = null)
    {
        // Subchannels become ready one by one; until all are, round robin picks among fewer.
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (hosts.Any(h => h.Log.Count("EmptyCall") == 0))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Not every host received a call within {timeout ?? TimeSpan.FromSeconds(30)}.");
            }

            await client.EmptyCallAsync(new Empty());
            await Task.Delay(10);
        }
    }

    /// <summary>Ten calls per serving host by default, each counted where it arrived; a failed call is counted, not thrown.</summary>
    private static async Task<CallRound> RoundAsync(string phase, TestService.TestServiceClient client, IReadOnlyList<TestHost> counted, int? calls = null)
    {
        foreach (var host in counted)
        {
            host.Log.Clear();
        }

        var failed = 0;
        for (var i = 0; i < (calls ?? 10 * counted.Count); i++)
        {
            try
            {
                await client.EmptyCallAsync(new Empty());
            }
            catch (RpcException)
            {
                failed++;
            }
        }

        return new CallRound(phase, counted.ToDictionary(h => h.Address.ToString(), h => h.Log.Count("EmptyCall")), failed);
    }

    private static string DotnetHost()
    {
        // The test host runs under the dotnet muxer; the SDK also names it for child processes.
        var current = Environment.ProcessPath;
        if (current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet")
        {
            return current;
        }

        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? Prerequisite.Executable("dotnet", "the .NET SDK (see global.json)");
    }

    private sealed class Hosts : IAsyncDisposable
    {
        private Hosts(List<TestHost> started) => Started = started;

        public List<TestHost> Started { get; }

        public static async Task<Hosts> StartAsync(IEnumerable<IPAddress> addresses, int port)
        {
            var hosts = new Hosts([]);
            try
            {
                foreach (var address in addresses)
                {
                    hosts.Started.Add(await TestHost.StartAsync(address, port));
                }
            }
            catch
            {
                await hosts.DisposeAsync();
                throw;
            }

            return hosts;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var host in Started)
            {
                await host.DisposeAsync();
            }
        }
    }
}
