using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microservices.Hosting.Limits;
using Microservices.Hosting.Tests.Support;
using Microservices.Testing.V1;
using Microservices.TestSupport;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microservices.Hosting.Tests.Limits;

/// <summary>ConnectionLimits: connections per host and streams per connection, through Kestrel's keys.</summary>
public sealed class ConnectionLimitTests
{
    [Fact]
    public async Task Defaults_apply_unless_kestrel_limits_are_configured()
    {
        await using var defaults = await ServiceHost.StartAsync("limit-defaults-test");
        var limits = defaults.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;
        Assert.Equal(ConnectionLimits.DefaultMaxConcurrentConnections, limits.MaxConcurrentConnections);
        Assert.Equal(ConnectionLimits.DefaultMaxStreamsPerConnection, limits.Http2.MaxStreamsPerConnection);

        await using var configured = await ServiceHost.StartAsync("limit-configured-test", new Dictionary<string, string?>
        {
            [ConnectionLimits.MaxConcurrentConnectionsKey] = "7",
            [ConnectionLimits.MaxStreamsPerConnectionKey] = "9",
        });
        limits = configured.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;
        Assert.Equal(7, limits.MaxConcurrentConnections);
        Assert.Equal(9, limits.Http2.MaxStreamsPerConnection);
    }

    [Fact]
    public void A_bad_limit_fails_start_up_naming_its_key()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            ServiceHost.Build("bad-connection-limit-test", FreePort.Next(), new Dictionary<string, string?> { [ConnectionLimits.MaxConcurrentConnectionsKey] = "0" }));
        Assert.Contains(ConnectionLimits.MaxConcurrentConnectionsKey, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_connection_over_the_limit_is_refused_until_one_closes()
    {
        await using var host = await ServiceHost.StartAsync("connection-limit-test", new Dictionary<string, string?> { [ConnectionLimits.MaxConcurrentConnectionsKey] = "1" });
        var first = GrpcChannel.ForAddress(host.Address);
        await new TestService.TestServiceClient(first).EmptyCallAsync(new Empty());

        using var second = GrpcChannel.ForAddress(host.Address);
        var client = new TestService.TestServiceClient(second);
        var error = await Assert.ThrowsAsync<RpcException>(async () => await client.EmptyCallAsync(new Empty()));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);

        first.Dispose();
        await Eventually.HoldsAsync(async () =>
        {
            try
            {
                await client.EmptyCallAsync(new Empty());
                return true;
            }
            catch (RpcException)
            {
                return false;
            }
        }, "the second channel is served once the first connection closed");
    }

    [Fact]
    public async Task Calls_over_the_stream_limit_wait_for_a_free_stream_instead_of_failing()
    {
        var concurrency = new ConcurrencyRecorder();
        await using var host = await ServiceHost.StartAsync("stream-limit-test",
            new Dictionary<string, string?> { [ConnectionLimits.MaxStreamsPerConnectionKey] = "1" },
            services: b =>
            {
                b.Services.AddSingleton(concurrency);
                b.Services.AddGrpc(grpc => grpc.Interceptors.Add<ConcurrencyRecorder>());
            });
        // GrpcChannel's default handler opens another connection when one is full; a client on one
        // connection (most peers, and this handler) queues instead.
        using var handler = new SocketsHttpHandler { EnableMultipleHttp2Connections = false };
        using var channel = GrpcChannel.ForAddress(host.Address, new GrpcChannelOptions { HttpHandler = handler });
        var client = new TestService.TestServiceClient(channel);

        // Learn the server's SETTINGS (max 1 stream) on a first call, then hold the one stream open.
        await client.EmptyCallAsync(new Empty());
        using var held = client.FullDuplexCall();
        await held.RequestStream.WriteAsync(new StreamingOutputCallRequest { ResponseParameters = { new ResponseParameters { Size = 1 } } });
        Assert.True(await held.ResponseStream.MoveNext());

        var waiting = Task.WhenAll(Enumerable.Range(0, 3).Select(async _ => await client.EmptyCallAsync(new Empty())));

        // Not an assertion on time: only a chance for a call that did not wait to reach the server
        // while the held stream is open, which the recorder would then see.
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        await held.RequestStream.CompleteAsync();
        Assert.False(await held.ResponseStream.MoveNext());

        await waiting;
        Assert.Equal(1, concurrency.Max);
    }

    /// <summary>The most calls a host ran at the same time.</summary>
    private sealed class ConcurrencyRecorder : Interceptor
    {
        private int _current;
        private int _max;

        public int Max => Volatile.Read(ref _max);

        public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
        {
            using var _ = Enter();
            return await continuation(request, context);
        }

        public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
        {
            using var _ = Enter();
            await continuation(requestStream, responseStream, context);
        }

        private Exit Enter()
        {
            var now = Interlocked.Increment(ref _current);
            int seen;
            while (now > (seen = Volatile.Read(ref _max)) && Interlocked.CompareExchange(ref _max, now, seen) != seen)
            {
            }

            return new Exit(this);
        }

        private readonly struct Exit(ConcurrencyRecorder recorder) : IDisposable
        {
            public void Dispose() => Interlocked.Decrement(ref recorder._current);
        }
    }
}
