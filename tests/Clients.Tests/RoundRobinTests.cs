using System.Net;
using Microservices.Clients.Tests.Support;
using Microservices.Testing.V1;

namespace Microservices.Clients.Tests;

/// <summary>
/// <c>dns:///name:port</c> over a name that resolves to several addresses, as a headless Service's
/// does. Each scenario runs in a network namespace the test makes, where <see cref="Name"/>
/// resolves to three loopback addresses through that namespace's own hosts file: no traffic
/// leaves loopback, the machine's /etc/hosts is untouched, and the lookups a scenario counts are
/// its own process's.
/// </summary>
[Collection(nameof(RoundRobinTests))]
public sealed class RoundRobinTests
{
    private const string Name = "pods.test";

    private static readonly IPAddress[] Pods = [IPAddress.Parse("127.0.0.2"), IPAddress.Parse("127.0.0.3"), IPAddress.Parse("127.0.0.4")];

    [Fact]
    public async Task Calls_are_spread_round_robin_over_every_address_the_name_resolves_to()
    {
        var report = await RunAsync(RoundRobinScenario.Spread);

        AssertRoundRobin(report.Rounds.Single(), Pods);
    }

    [Fact]
    public async Task A_name_is_resolved_again_while_the_channel_lives()
    {
        var report = await RunAsync(RoundRobinScenario.ChannelResolvesAgain);

        AssertResolvedAgain(report);
    }

    [Fact]
    public async Task An_injected_client_is_resolved_again_at_the_interval_of_its_own_section()
    {
        var report = await RunAsync(RoundRobinScenario.InjectedClientResolvesAgain);

        AssertResolvedAgain(report);
    }

    [Fact]
    public async Task An_address_that_refused_at_first_gets_calls_once_it_listens()
    {
        var report = await RunAsync(RoundRobinScenario.LateListener);

        var (refused, joined) = (report.Rounds[0], report.Rounds[1]);
        Assert.Equal(0, refused.Failed);
        Assert.Equal(Pods[..^1].Select(p => p.ToString()), refused.CallsPerHost.Keys.Order());
        Assert.All(refused.CallsPerHost.Values, calls => Assert.True(calls > 0, $"{refused.Phase}: every listening host gets calls"));
        Assert.Equal(10 * (Pods.Length - 1), refused.CallsPerHost.Values.Sum());
        AssertRoundRobin(joined, Pods);
    }

    [Fact]
    public async Task A_host_that_goes_away_stops_getting_calls_and_no_idempotent_call_fails()
    {
        var report = await RunAsync(RoundRobinScenario.HostGoesAway);

        var (afterStop, roundRobin) = (report.Rounds[0], report.Rounds[1]);
        var rest = Pods[1..];
        Assert.Equal(0, afterStop.Failed);
        Assert.Equal(0, afterStop.CallsPerHost[Pods[0].ToString()]);
        Assert.Equal(10 * rest.Length, rest.Sum(p => afterStop.CallsPerHost[p.ToString()]));
        AssertRoundRobin(roundRobin, rest);
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

    private static async Task<RoundRobinReport> RunAsync(RoundRobinScenario scenario)
    {
        var report = await RoundRobinScenarios.RunInNamespaceAsync(scenario, Name, Pods);

        // The name resolved in the namespace to exactly the loopback addresses its hosts file gives.
        Assert.Equal(Pods.Select(p => p.ToString()), report.Resolved.Order());
        return report;
    }

    /// <summary>Every serving host got exactly ten calls, the others none, and nothing failed.</summary>
    private static void AssertRoundRobin(CallRound round, IReadOnlyList<IPAddress> serving)
    {
        Assert.Equal(0, round.Failed);
        var expected = Pods.ToDictionary(p => p.ToString(), p => serving.Contains(p) ? 10 : 0);
        var actual = Pods.ToDictionary(p => p.ToString(), p => round.CallsPerHost.GetValueOrDefault(p.ToString()));
        Assert.Equal(expected, actual);
    }

    private static void AssertResolvedAgain(RoundRobinReport report)
    {
        Assert.True(report.LookupsAtFirstCall >= 1, "the first call resolves the name");
        Assert.True(
            report.LookupsAtEnd > report.LookupsAtFirstCall,
            $"{Name} was looked up again by the refresh timer within 60 s ({report.LookupsAtFirstCall} lookups at the first call, {report.LookupsAtEnd} after)");
        AssertRoundRobin(report.Rounds.Single(), Pods);
    }
}

/// <remarks>
/// Nothing here is shared with other classes any more, but each scenario starts a child dotnet
/// and several hosts: run alone, that load does not shift the timing of other classes' tests
/// (CallBehaviourTests' write-against-reset test failed with a raw HttpProtocolException beside them).
/// </remarks>
[CollectionDefinition(nameof(RoundRobinTests), DisableParallelization = true)]
public sealed class RoundRobinCollection;
