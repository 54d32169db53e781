using Grpc.Core;
using Microservices.Clients.Tests.Support;
using Microservices.Hosting.Clients;
using Microservices.Testing.V1;
using Microsoft.Extensions.DependencyInjection;

namespace Microservices.Clients.Tests;

/// <summary>
/// A client injected by AddServiceClient, as a service calls another: the test calls host A,
/// whose handler calls host B through the injected client with no deadline or token of its own.
/// </summary>
public sealed class ServiceClientTests
{
    [Fact]
    public async Task The_incoming_deadline_flows_to_the_call_a_handler_makes()
    {
        await using var b = await TestHost.StartAsync();
        await using var a = await StartRelayAsync(b.Url);
        using var channel = GrpcChannels.Create(a.Url);

        var deadline = DateTime.UtcNow.AddSeconds(20);
        await new TestService.TestServiceClient(channel).EmptyCallAsync(new Empty(), deadline: deadline);

        // grpc-timeout is relative, so each hop's transit shifts it slightly; it must not be lost.
        var seen = Assert.Single(b.Log.Calls).Deadline;
        Assert.InRange(seen, deadline.AddSeconds(-2), deadline.AddSeconds(2));
    }

    [Fact]
    public async Task Cancelling_the_original_call_cancels_the_handler_downstream()
    {
        await using var b = await TestHost.StartAsync();
        await using var a = await StartRelayAsync(b.Url);
        using var channel = GrpcChannels.Create(a.Url);

        // Host A's relay holds the call open towards B; B's handler is the one that must stop.
        await WaitingCall.CancelOnceHeldAsync(new TestService.TestServiceClient(channel), b);
    }

    [Fact]
    public async Task Outside_a_call_the_injected_client_still_works_over_a_dns_address()
    {
        await using var b = await TestHost.StartAsync();
        await using var a = await StartRelayAsync($"dns:///localhost:{b.Port}");

        var client = a.App.Services.GetRequiredService<TestService.TestServiceClient>();
        await client.EmptyCallAsync(new Empty());

        Assert.Equal(1, b.Log.Count("EmptyCall"));
    }

    [Fact]
    public async Task The_injected_client_retries_idempotent_calls_as_its_section_says()
    {
        await using var b = await TestHost.StartAsync();
        await using var a = await StartRelayAsync(b.Url, new Dictionary<string, string?>
        {
            ["Clients:Downstream:MaxRetryAttempts"] = "2",
            ["Clients:Downstream:InitialRetryBackoff"] = "00:00:00.010",
            ["Clients:Downstream:MaxRetryBackoff"] = "00:00:00.050",
        });
        var client = a.App.Services.GetRequiredService<TestService.TestServiceClient>();

        b.Log.FailNext(1);
        await client.EmptyCallAsync(new Empty());
        Assert.Equal(2, b.Log.Count("EmptyCall"));

        b.Log.Clear();
        b.Log.FailNext(int.MaxValue);
        var error = await Assert.ThrowsAsync<RpcException>(() => client.EmptyCallAsync(new Empty()).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal(2, b.Log.Count("EmptyCall"));

        b.Log.Clear();
        b.Log.FailNext(1);
        await Assert.ThrowsAsync<RpcException>(() => client.UnaryCallAsync(new SimpleRequest()).ResponseAsync);
        Assert.Equal(1, b.Log.Count("UnaryCall"));
    }

    private static Task<TestHost> StartRelayAsync(string downstream, IReadOnlyDictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>(more ?? new Dictionary<string, string?>())
        {
            ["Clients:Downstream:Address"] = downstream,
        };
        return TestHost.StartAsync<RelayService>(
            settings: settings,
            services: (services, configuration) =>
                services.AddServiceClient<TestService.TestServiceClient>(configuration.GetSection("Clients:Downstream")));
    }
}
