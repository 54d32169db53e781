using System.Collections.Concurrent;
using System.Net;
using Microservices.Grpc.Client;
using Microservices.Grpc.Server;
using Microservices.Grpc.Tests.Interop;
using Microservices.Grpc.Tests.Support;
using Microservices.Testing.V1;
using Microservices.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Microservices.Grpc.Tests.Client;

public sealed class ClientBehaviourTests
{
    [Fact]
    public async Task Idempotent_calls_are_retried_on_unavailable_until_they_succeed()
    {
        var failures = new FailFirstCalls(2);
        await using var server = await StartAsync(failures);
        using var channel = GrpcChannel.ForAddress(server.Address, new GrpcChannelOptions { Retry = FastRetry() });

        await channel.UnaryAsync(TestContract.EmptyCall, new Empty(), new CallOptions { Idempotent = true });
        Assert.Equal(3, failures.Calls);
    }

    [Fact]
    public async Task Calls_not_marked_idempotent_are_not_retried()
    {
        var failures = new FailFirstCalls(1);
        await using var server = await StartAsync(failures);
        using var channel = GrpcChannel.ForAddress(server.Address, new GrpcChannelOptions { Retry = FastRetry() });

        var error = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(TestContract.EmptyCall, new Empty()));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal(1, failures.Calls);
    }

    [Fact]
    public async Task The_retry_budget_stops_retries_against_a_server_that_keeps_failing()
    {
        var failures = new FailFirstCalls(int.MaxValue);
        await using var server = await StartAsync(failures);
        var retry = FastRetry();
        retry.MaxAttempts = 5;
        retry.BudgetMaxTokens = 10;
        using var channel = GrpcChannel.ForAddress(server.Address, new GrpcChannelOptions { Retry = retry });

        for (var i = 0; i < 10; i++)
        {
            await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(TestContract.EmptyCall, new Empty(), new CallOptions { Idempotent = true }));
        }

        // Without a budget: 10 calls × 5 attempts = 50. The budget (retry only while > 5 of 10
        // tokens remain, each failure costs one) allows just the first few retries.
        Assert.InRange(failures.Calls, 10, 16);
    }

    [Fact]
    public async Task Connection_refused_is_unavailable()
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{FreePort.Next()}", new GrpcChannelOptions { Retry = FastRetry() });
        var error = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(TestContract.EmptyCall, new Empty(), new CallOptions { Idempotent = true }));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }

    [Fact]
    public async Task An_incoming_deadline_propagates_to_the_calls_a_handler_makes()
    {
        var downstreamDeadlines = new ConcurrentQueue<DateTime>();
        await using var downstream = await TestGrpcServer.StartAsync(
            grpc => grpc.AddService<InteropTestService>(TestContract.Service).AddInterceptor<RecordDeadline>(),
            services => services.AddSingleton(downstreamDeadlines));
        using var downstreamChannel = GrpcChannel.ForAddress(downstream.Address);
        await using var upstream = await TestGrpcServer.StartAsync(
            grpc => grpc.AddService<InteropTestService>(TestContract.Service).AddInterceptor<CallDownstream>(),
            services => services.AddSingleton(downstreamChannel));
        using var channel = GrpcChannel.ForAddress(upstream.Address);

        var deadline = DateTime.UtcNow.AddSeconds(20);
        await channel.UnaryAsync(TestContract.EmptyCall, new Empty(), new CallOptions { Deadline = deadline });

        Assert.True(downstreamDeadlines.TryDequeue(out var propagated));
        // grpc-timeout is relative, so the hop's transit time may shift it slightly; it must not be lost.
        Assert.InRange(propagated, deadline.AddSeconds(-2), deadline.AddSeconds(2));
    }

    [Fact]
    public async Task Calls_are_spread_round_robin_over_every_resolved_address_and_follow_refreshes()
    {
        IPAddress[] addresses = [IPAddress.Parse("127.0.0.1"), IPAddress.Parse("127.0.0.2"), IPAddress.Parse("127.0.0.3")];
        var seen = new ConcurrentQueue<string>();
        var port = FreePort.Next();
        await using var server = await TestGrpcServer.StartAsync(
            grpc => grpc.AddService<InteropTestService>(TestContract.Service).AddInterceptor<RecordLocalAddress>(),
            services => services.AddSingleton(seen),
            listenAddresses: addresses,
            port: port);
        var resolver = new StaticResolver(addresses);
        using var channel = GrpcChannel.ForAddress($"http://pods.test.internal:{port}", new GrpcChannelOptions
        {
            AddressResolver = resolver,
            AddressRefreshInterval = TimeSpan.FromMilliseconds(200),
        });

        for (var i = 0; i < 30; i++)
        {
            await channel.UnaryAsync(TestContract.EmptyCall, new Empty());
        }

        var counts = seen.GroupBy(a => a).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(3, counts.Count);
        Assert.All(counts.Values, count => Assert.Equal(10, count));

        // A pod goes away and another stays: after the periodic refresh only it receives calls.
        resolver.Addresses = [IPAddress.Parse("127.0.0.2")];
        await WaitUntilAsync(() => channel.EndPoints.Count == 1);
        seen.Clear();
        for (var i = 0; i < 10; i++)
        {
            await channel.UnaryAsync(TestContract.EmptyCall, new Empty());
        }

        Assert.All(seen, address => Assert.Equal("127.0.0.2", address));
        Assert.Equal(10, seen.Count);
    }

    [Fact]
    public async Task A_dns_name_is_resolved_by_dns()
    {
        await using var server = await TestGrpcServer.StartAsync(grpc => grpc.AddService<InteropTestService>(TestContract.Service));
        using var channel = GrpcChannel.ForAddress($"http://localhost:{server.Port}");
        await channel.UnaryAsync(TestContract.EmptyCall, new Empty());
        Assert.Contains(channel.EndPoints, e => e.Address.Equals(IPAddress.Loopback));
    }

    [Fact]
    public async Task Client_interceptors_add_metadata_and_see_the_final_status()
    {
        await using var server = await StartAsync(new FailFirstCalls(0), grpc => grpc.AddInterceptor<RequireRequestId>());
        var interceptor = new RequestIdInterceptor();
        var options = new GrpcChannelOptions();
        options.Interceptors.Add(interceptor);
        using var channel = GrpcChannel.ForAddress(server.Address, options);

        await channel.UnaryAsync(TestContract.EmptyCall, new Empty());
        await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(TestContract.UnaryCall, new SimpleRequest { ResponseStatus = new EchoStatus { Code = 7, Message = "no" } }));

        Assert.Equal(["EmptyCall OK", "UnaryCall PermissionDenied"], interceptor.Completed);
    }

    [Fact]
    public async Task A_response_over_the_clients_limit_is_resource_exhausted()
    {
        await using var server = await TestGrpcServer.StartAsync(grpc => grpc.AddService<InteropTestService>(TestContract.Service));
        using var channel = GrpcChannel.ForAddress(server.Address, new GrpcChannelOptions { MaxReceiveMessageSize = 1000 });
        var error = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(TestContract.UnaryCall, new SimpleRequest { ResponseSize = 5000 }));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal(10, (await channel.UnaryAsync(TestContract.UnaryCall, new SimpleRequest { ResponseSize = 10 })).Payload.Body.Length);
    }

    [Fact]
    public async Task A_deadline_already_past_fails_without_sending()
    {
        var failures = new FailFirstCalls(0);
        await using var server = await StartAsync(failures);
        using var channel = GrpcChannel.ForAddress(server.Address);
        var error = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(TestContract.EmptyCall, new Empty(), new CallOptions { Deadline = DateTime.UtcNow.AddSeconds(-1) }));
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Equal(0, failures.Calls);
    }

    [Fact]
    public async Task Writing_after_completing_the_request_stream_is_refused()
    {
        await using var server = await TestGrpcServer.StartAsync(grpc => grpc.AddService<InteropTestService>(TestContract.Service));
        using var channel = GrpcChannel.ForAddress(server.Address);
        using var call = channel.ClientStreamingCall(TestContract.StreamingInputCall);
        await call.RequestStream.WriteAsync(new StreamingInputCallRequest { Payload = new Payload { Body = Google.Protobuf.ByteString.CopyFrom(new byte[10]) } });
        await call.RequestStream.CompleteAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => call.RequestStream.WriteAsync(new StreamingInputCallRequest()));
        Assert.Equal(10, (await call).AggregatedPayloadSize);
    }

    [Fact]
    public async Task A_server_error_while_the_client_is_still_sending_is_reported_as_the_servers_status()
    {
        await using var server = await TestGrpcServer.StartAsync(grpc => grpc.AddService<InteropTestService>(TestContract.Service));
        using var channel = GrpcChannel.ForAddress(server.Address);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            using var call = channel.ClientStreamingCall(TestContract.StreamingInputCall);
            // The server refuses the first message (it claims compression it lacks) while we keep sending.
            var seen = new List<StatusCode>();
            try
            {
                await call.RequestStream.WriteAsync(new StreamingInputCallRequest { ExpectCompressed = new BoolValue { Value = true } });
                var chunk = new StreamingInputCallRequest { Payload = new Payload { Body = Google.Protobuf.ByteString.CopyFrom(new byte[64 * 1024]) } };
                for (var i = 0; i < 200; i++)
                {
                    await call.RequestStream.WriteAsync(chunk);
                }

                await call.RequestStream.CompleteAsync();
            }
            catch (RpcException ex)
            {
                seen.Add(ex.StatusCode);
            }

            var response = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
            seen.Add(response.StatusCode);
            Assert.All(seen, code => Assert.Equal(StatusCode.InvalidArgument, code));
        }
    }

    private static RetryPolicy FastRetry() => new() { InitialBackoff = TimeSpan.FromMilliseconds(5), MaxBackoff = TimeSpan.FromMilliseconds(20) };

    private static Task<TestGrpcServer> StartAsync(FailFirstCalls failures, Action<GrpcServerBuilder>? grpc = null) =>
        TestGrpcServer.StartAsync(
            builder =>
            {
                builder.AddService<InteropTestService>(TestContract.Service).AddInterceptor<FailFirstCalls>();
                grpc?.Invoke(builder);
            },
            services => services.AddSingleton(failures));

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 100 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(condition());
    }

    internal sealed class FailFirstCalls(int failures) : IServerInterceptor
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public Task InterceptAsync(ServerCallContext context, Func<ServerCallContext, Task> next) =>
            Interlocked.Increment(ref _calls) <= failures
                ? throw new RpcException(StatusCode.Unavailable, "Try again.")
                : next(context);
    }

    internal sealed class RecordDeadline(ConcurrentQueue<DateTime> deadlines) : IServerInterceptor
    {
        public Task InterceptAsync(ServerCallContext context, Func<ServerCallContext, Task> next)
        {
            deadlines.Enqueue(context.Deadline);
            return next(context);
        }
    }

    internal sealed class CallDownstream(GrpcChannel downstream) : IServerInterceptor
    {
        public async Task InterceptAsync(ServerCallContext context, Func<ServerCallContext, Task> next)
        {
            // No deadline given here: it must come from the incoming call.
            await downstream.UnaryAsync(TestContract.EmptyCall, new Empty());
            await next(context);
        }
    }

    internal sealed class RecordLocalAddress(ConcurrentQueue<string> seen) : IServerInterceptor
    {
        public Task InterceptAsync(ServerCallContext context, Func<ServerCallContext, Task> next)
        {
            seen.Enqueue(context.GetHttpContext().Connection.LocalIpAddress!.ToString());
            return next(context);
        }
    }

    internal sealed class RequireRequestId : IServerInterceptor
    {
        public Task InterceptAsync(ServerCallContext context, Func<ServerCallContext, Task> next) =>
            context.RequestHeaders.GetValue("x-request-id") is { Length: > 0 }
                ? next(context)
                : throw new RpcException(StatusCode.InvalidArgument, "x-request-id is required.");
    }

    internal sealed class RequestIdInterceptor : IClientInterceptor
    {
        public List<string> Completed { get; } = [];

        public void OnCallStarting(ClientCallInfo call) => call.Headers.Add("x-request-id", Guid.NewGuid().ToString("N"));

        public void OnCallCompleted(ClientCallInfo call, Status status, TimeSpan elapsed)
        {
            lock (Completed)
            {
                Completed.Add(call.Path[(call.Path.LastIndexOf('/') + 1)..] + " " + status.Code);
            }
        }
    }

    internal sealed class StaticResolver(IPAddress[] addresses) : IAddressResolver
    {
        public IPAddress[] Addresses { get; set; } = addresses;

        public Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<IPAddress>>(Addresses);
    }
}
