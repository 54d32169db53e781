using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using Microservices.Grpc.Client;
using Microservices.Grpc.Server;
using Microservices.Grpc.Tests.Interop;
using Microservices.Grpc.Tests.Support;
using Microservices.Testing.V1;
using Microsoft.Extensions.DependencyInjection;

namespace Microservices.Grpc.Tests.Server;

public sealed class ServerBehaviourTests
{
    private const string UnaryPath = "/microservices.testing.v1.TestService/UnaryCall";

    [Fact]
    public void A_service_class_missing_a_method_of_the_descriptor_fails_at_startup()
    {
        var services = new ServiceCollection();
        var error = Assert.Throws<InvalidOperationException>(() =>
            services.AddGrpcServer().AddService<HalfATestService>(TestContract.Service));
        Assert.Contains("microservices.testing.v1.TestService", error.Message, StringComparison.Ordinal);
        Assert.Contains("Task<SimpleResponse> UnaryCall(SimpleRequest, ServerCallContext)", error.Message, StringComparison.Ordinal);
        Assert.Contains("Task FullDuplexCall(IAsyncStreamReader<StreamingOutputCallRequest>, IServerStreamWriter<StreamingOutputCallResponse>, ServerCallContext)", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("EmptyCall", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("q6s=")]
    [InlineData("q6s")]
    public async Task Binary_metadata_is_accepted_padded_or_not_and_echoed(string base64)
    {
        await using var server = await StartAsync();
        using var raw = RawGrpc.CreateClient();
        var request = RawGrpc.Request(server.Address, UnaryPath, RawGrpc.Frame(new SimpleRequest { ResponseSize = 1 }.ToByteArray()));
        request.Headers.TryAddWithoutValidation("x-grpc-test-echo-trailing-bin", base64);
        var response = await RawGrpc.SendAsync(raw, request);
        Assert.Equal(StatusCode.OK, response.GrpcStatus);
        Assert.Equal([0xab, 0xab], Convert.FromBase64String(response.Trailers["x-grpc-test-echo-trailing-bin"]));
    }

    [Fact]
    public async Task Status_message_is_percent_encoded_on_the_wire_and_decoded_by_the_client()
    {
        await using var server = await StartAsync();
        const string message = "100% ☺ broken\nline";
        using var raw = RawGrpc.CreateClient();
        var request = RawGrpc.Request(server.Address, UnaryPath, RawGrpc.Frame(new SimpleRequest { ResponseStatus = new EchoStatus { Code = 9, Message = message } }.ToByteArray()));
        using var response = await raw.SendAsync(request);
        Assert.Equal("100%25 %E2%98%BA broken%0Aline", response.Headers.GetValues("grpc-message").Single());

        using var channel = GrpcChannel.ForAddress(server.Address);
        var error = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(TestContract.UnaryCall, new SimpleRequest { ResponseStatus = new EchoStatus { Code = 9, Message = message } }));
        Assert.Equal(new Status(StatusCode.FailedPrecondition, message), error.Status);
    }

    [Fact]
    public async Task An_error_before_any_response_is_sent_trailers_only()
    {
        await using var server = await StartAsync();
        using var raw = RawGrpc.CreateClient();
        var response = await RawGrpc.SendAsync(raw, RawGrpc.Request(server.Address, UnaryPath,
            RawGrpc.Frame(new SimpleRequest { ResponseStatus = new EchoStatus { Code = 5, Message = "gone" } }.ToByteArray())));
        Assert.True(response.TrailersOnly);
        Assert.Equal(StatusCode.NotFound, response.GrpcStatus);
        Assert.Empty(response.Body);
    }

    [Fact]
    public async Task Grpc_timeout_becomes_a_deadline_that_cancels_the_handler()
    {
        var observer = new CallObserver();
        await using var server = await StartAsync(services => services.AddSingleton(observer));
        using var channel = GrpcChannel.ForAddress(server.Address);
        var request = new StreamingOutputCallRequest();
        request.ResponseParameters.Add(new ResponseParameters { Size = 1, IntervalUs = 30_000_000 });
        var stopwatch = Stopwatch.StartNew();
        using var call = channel.ServerStreamingCall(TestContract.StreamingOutputCall, request, new CallOptions().WithTimeout(TimeSpan.FromMilliseconds(300)));
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Equal("/microservices.testing.v1.TestService/StreamingOutputCall", await observer.HandlerCancelled.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task The_server_answers_deadline_exceeded_itself_when_the_client_does_not_enforce_it()
    {
        await using var server = await StartAsync();
        using var raw = RawGrpc.CreateClient();
        var request = new StreamingOutputCallRequest();
        request.ResponseParameters.Add(new ResponseParameters { Size = 1, IntervalUs = 30_000_000 });
        var message = RawGrpc.Request(server.Address, "/microservices.testing.v1.TestService/StreamingOutputCall", RawGrpc.Frame(request.ToByteArray()));
        message.Headers.TryAddWithoutValidation("grpc-timeout", "200m");
        var response = await RawGrpc.SendAsync(raw, message);
        Assert.Equal(StatusCode.DeadlineExceeded, response.GrpcStatus);
    }

    [Fact]
    public async Task A_client_reset_cancels_the_handler_token()
    {
        var observer = new CallObserver();
        await using var server = await StartAsync(services => services.AddSingleton(observer));
        using var channel = GrpcChannel.ForAddress(server.Address);
        var request = new StreamingOutputCallRequest();
        request.ResponseParameters.Add(new ResponseParameters { Size = 1 });
        request.ResponseParameters.Add(new ResponseParameters { Size = 1, IntervalUs = 30_000_000 });
        using var cancellation = new CancellationTokenSource();
        using var call = channel.ServerStreamingCall(TestContract.StreamingOutputCall, request, new CallOptions { CancellationToken = cancellation.Token });
        Assert.True(await call.ResponseStream.MoveNext());
        await cancellation.CancelAsync();
        Assert.Equal("/microservices.testing.v1.TestService/StreamingOutputCall", await observer.HandlerCancelled.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Interceptors_run_in_order_and_can_refuse_a_call()
    {
        var log = new List<string>();
        await using var server = await StartAsync(
            services => services.AddSingleton(log),
            grpc => grpc.AddInterceptor<RecordingInterceptor>().AddInterceptor<BearerTokenInterceptor>());
        using var channel = GrpcChannel.ForAddress(server.Address);

        var refused = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(TestContract.EmptyCall, new Empty()));
        Assert.Equal(new Status(StatusCode.Unauthenticated, "A bearer token is required."), refused.Status);

        await channel.UnaryAsync(TestContract.EmptyCall, new Empty(), new CallOptions { Headers = new Metadata().Add("authorization", "Bearer let-me-in") });
        Assert.Equal(
            ["before /microservices.testing.v1.TestService/EmptyCall", "after Unauthenticated", "before /microservices.testing.v1.TestService/EmptyCall", "after OK"],
            log);
    }

    [Fact]
    public async Task Each_call_is_one_server_span_that_continues_the_callers_trace()
    {
        var spans = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == Telemetry.GrpcTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (spans)
                {
                    spans.Add(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        await using var server = await StartAsync();
        using var channel = GrpcChannel.ForAddress(server.Address);
        using var parent = new Activity("caller").SetIdFormat(ActivityIdFormat.W3C).Start();

        await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(TestContract.UnaryCall, new SimpleRequest { ResponseStatus = new EchoStatus { Code = 5, Message = "x" } }));
        parent.Stop();

        Activity serverSpan, clientSpan;
        lock (spans)
        {
            serverSpan = spans.Single(s => s.Kind == ActivityKind.Server && s.TraceId == parent.TraceId);
            clientSpan = spans.Single(s => s.Kind == ActivityKind.Client && s.TraceId == parent.TraceId);
        }

        Assert.Equal("microservices.testing.v1.TestService/UnaryCall", serverSpan.DisplayName);
        Assert.Equal(clientSpan.SpanId, serverSpan.ParentSpanId);
        Assert.Equal(parent.SpanId, clientSpan.ParentSpanId);
        foreach (var span in new[] { serverSpan, clientSpan })
        {
            Assert.Equal("grpc", span.GetTagItem("rpc.system"));
            Assert.Equal("microservices.testing.v1.TestService", span.GetTagItem("rpc.service"));
            Assert.Equal("UnaryCall", span.GetTagItem("rpc.method"));
            Assert.Equal(5, span.GetTagItem("rpc.grpc.status_code"));
        }
    }

    [Fact]
    public async Task Call_durations_are_recorded_as_rpc_metrics_on_both_sides()
    {
        var measurements = new List<(string Instrument, string? Method, int? Code)>();
        using var meters = new System.Diagnostics.Metrics.MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == Telemetry.GrpcTelemetry.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<double>((instrument, _, tags, _) =>
        {
            string? method = null;
            int? code = null;
            foreach (var tag in tags)
            {
                method = tag.Key == "rpc.method" ? (string?)tag.Value : method;
                code = tag.Key == "rpc.grpc.status_code" ? (int?)tag.Value : code;
            }

            lock (measurements)
            {
                measurements.Add((instrument.Name, method, code));
            }
        });
        meters.Start();
        await using var server = await StartAsync();
        using var channel = GrpcChannel.ForAddress(server.Address);

        await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(TestContract.UnaryCall, new SimpleRequest { ResponseStatus = new EchoStatus { Code = 5, Message = "x" } }));

        lock (measurements)
        {
            Assert.Contains(("rpc.server.duration", "UnaryCall", 5), measurements);
            Assert.Contains(("rpc.client.duration", "UnaryCall", 5), measurements);
        }
    }

    [Fact]
    public async Task A_client_stream_larger_than_kestrels_default_body_limit_is_accepted()
    {
        await using var server = await StartAsync();
        using var channel = GrpcChannel.ForAddress(server.Address);
        using var call = channel.ClientStreamingCall(TestContract.StreamingInputCall);
        var chunk = new StreamingInputCallRequest { Payload = new Payload { Body = ByteString.CopyFrom(new byte[1024 * 1024]) } };
        for (var i = 0; i < 40; i++)
        {
            await call.RequestStream.WriteAsync(chunk);
        }

        await call.RequestStream.CompleteAsync();
        Assert.Equal(40 * 1024 * 1024, (await call).AggregatedPayloadSize);
    }

    [Fact]
    public async Task Tls_endpoint_serves_grpcio_and_our_client()
    {
        using var certificate = TestGrpcServer.CreateSelfSignedCertificate();
        await using var server = await TestGrpcServer.StartAsync(grpc => grpc.AddService<InteropTestService>(TestContract.Service), certificate: certificate);
        var caFile = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(caFile, certificate.ExportCertificatePem());
            foreach (var testCase in new[] { "large_unary", "ping_pong" })
            {
                var (exitCode, output) = await Python.RunScriptAsync("interop_client.py", "--server_host", "127.0.0.1",
                    "--server_port", server.Port.ToString(CultureInfo.InvariantCulture), "--use_tls", "--ca_file", caFile,
                    "--server_host_override", "localhost", "--test_case", testCase);
                Assert.True(exitCode == 0, $"grpcio over TLS failed {testCase}:\n{output}");
            }
        }
        finally
        {
            File.Delete(caFile);
        }

        var options = new GrpcChannelOptions { ServerCertificateValidation = (_, cert, _, _) => cert?.GetCertHashString() == certificate.GetCertHashString() };
        using var channel = GrpcChannel.ForAddress($"https://localhost:{server.Port}", options);
        var response = await channel.UnaryAsync(TestContract.UnaryCall, new SimpleRequest { ResponseSize = 7 });
        Assert.Equal(7, response.Payload.Body.Length);
    }

    private static Task<TestGrpcServer> StartAsync(Action<IServiceCollection>? services = null, Action<GrpcServerBuilder>? grpc = null) =>
        TestGrpcServer.StartAsync(
            builder =>
            {
                builder.AddService<InteropTestService>(TestContract.Service);
                grpc?.Invoke(builder);
            },
            services);

    internal sealed class HalfATestService
    {
        public Task<Empty> EmptyCall(Empty request, ServerCallContext context) => Task.FromResult(new Empty());
    }

    internal sealed class RecordingInterceptor(List<string> log) : IServerInterceptor
    {
        public async Task InterceptAsync(ServerCallContext context, Func<ServerCallContext, Task> next)
        {
            log.Add("before " + context.Method);
            try
            {
                await next(context);
                log.Add("after OK");
            }
            catch (RpcException ex)
            {
                log.Add("after " + ex.StatusCode);
                throw;
            }
        }
    }

    internal sealed class BearerTokenInterceptor : IServerInterceptor
    {
        public Task InterceptAsync(ServerCallContext context, Func<ServerCallContext, Task> next) =>
            context.RequestHeaders.GetValue("authorization") == "Bearer let-me-in"
                ? next(context)
                : throw new RpcException(StatusCode.Unauthenticated, "A bearer token is required.");
    }
}
