using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microservices.Hosting.Tests.Support;
using Microservices.Testing.V1;
using Microservices.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Microservices.Hosting.Tests.Server;

/// <summary>What a call gets from a host with our defaults, seen on the wire and by the generated client.</summary>
public sealed class ServerBehaviourTests
{
    private const string UnaryPath = "/" + ServiceHost.TestServiceName + "/UnaryCall";

    [Theory]
    [InlineData("q6s=")]
    [InlineData("q6s")]
    public async Task Binary_metadata_is_accepted_padded_or_not_and_echoed(string base64)
    {
        await using var host = await ServiceHost.StartAsync("binary-metadata-test");
        using var raw = RawGrpc.CreateClient();
        var request = RawGrpc.Request(host.Address, UnaryPath, RawGrpc.Frame(new SimpleRequest { ResponseSize = 1 }.ToByteArray()));
        request.Headers.TryAddWithoutValidation("x-grpc-test-echo-trailing-bin", base64);
        var response = await RawGrpc.SendAsync(raw, request);
        Assert.Equal((int)StatusCode.OK, response.GrpcStatus);
        Assert.Equal([0xab, 0xab], Convert.FromBase64String(response.Trailers["x-grpc-test-echo-trailing-bin"]));
    }

    [Fact]
    public async Task Status_message_is_percent_encoded_on_the_wire_and_decoded_by_the_client()
    {
        await using var host = await ServiceHost.StartAsync("status-message-test");
        const string message = "100% ☺ broken\nline";
        var failing = new SimpleRequest { ResponseStatus = new EchoStatus { Code = (int)StatusCode.FailedPrecondition, Message = message } };
        using var raw = RawGrpc.CreateClient();
        using var response = await raw.SendAsync(RawGrpc.Request(host.Address, UnaryPath, RawGrpc.Frame(failing.ToByteArray())));
        Assert.Equal("100%25 %E2%98%BA broken%0Aline", response.Headers.GetValues("grpc-message").Single());

        using var channel = GrpcChannel.ForAddress(host.Address);
        var error = await Assert.ThrowsAsync<RpcException>(async () => await new TestService.TestServiceClient(channel).UnaryCallAsync(failing));
        Assert.Equal(new Status(StatusCode.FailedPrecondition, message), error.Status);
    }

    [Fact]
    public async Task An_error_before_any_response_is_sent_trailers_only()
    {
        await using var host = await ServiceHost.StartAsync("trailers-only-test");
        using var raw = RawGrpc.CreateClient();
        var response = await RawGrpc.SendAsync(raw, RawGrpc.Request(host.Address, UnaryPath,
            RawGrpc.Frame(new SimpleRequest { ResponseStatus = new EchoStatus { Code = (int)StatusCode.NotFound, Message = "gone" } }.ToByteArray())));
        Assert.True(response.TrailersOnly);
        Assert.Equal((int)StatusCode.NotFound, response.GrpcStatus);
        Assert.Equal("gone", response.GrpcMessage);
        Assert.Empty(response.Body);
    }

    [Fact]
    public async Task Grpc_timeout_becomes_a_deadline_that_cancels_the_handler()
    {
        var observer = new CallObserver();
        await using var host = await ServiceHost.StartAsync("deadline-test", services: b => b.Services.AddSingleton(observer));
        using var channel = GrpcChannel.ForAddress(host.Address);
        using var call = new TestService.TestServiceClient(channel).StreamingOutputCall(SleepingRequest(), deadline: DateTime.UtcNow.AddMilliseconds(300));
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Equal("/" + ServiceHost.TestServiceName + "/StreamingOutputCall", await observer.HandlerCancelled.WaitAsync(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task The_server_answers_deadline_exceeded_itself_when_the_client_does_not_enforce_it()
    {
        await using var host = await ServiceHost.StartAsync("server-deadline-test");
        using var raw = RawGrpc.CreateClient();
        var message = RawGrpc.Request(host.Address, "/" + ServiceHost.TestServiceName + "/StreamingOutputCall", RawGrpc.Frame(SleepingRequest().ToByteArray()));
        message.Headers.TryAddWithoutValidation("grpc-timeout", "200m");
        var response = await RawGrpc.SendAsync(raw, message);
        Assert.Equal((int)StatusCode.DeadlineExceeded, response.GrpcStatus);
    }

    [Fact]
    public async Task A_client_reset_cancels_the_handler_token()
    {
        var observer = new CallObserver();
        await using var host = await ServiceHost.StartAsync("reset-test", services: b => b.Services.AddSingleton(observer));
        using var channel = GrpcChannel.ForAddress(host.Address);
        var request = SleepingRequest();
        request.ResponseParameters.Insert(0, new ResponseParameters { Size = 1 });
        using var cancellation = new CancellationTokenSource();
        using var call = new TestService.TestServiceClient(channel).StreamingOutputCall(request, cancellationToken: cancellation.Token);
        Assert.True(await call.ResponseStream.MoveNext());
        await cancellation.CancelAsync();
        Assert.Equal("/" + ServiceHost.TestServiceName + "/StreamingOutputCall", await observer.HandlerCancelled.WaitAsync(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task A_services_own_interceptors_run_after_the_metadata_limit_in_order_and_can_refuse_a_call()
    {
        var log = new List<string>();
        await using var host = await ServiceHost.StartAsync("interceptor-test", services: b =>
        {
            b.Services.AddSingleton(log);
            b.Services.Configure<GrpcServiceOptions>(o =>
            {
                o.Interceptors.Add<RecordingInterceptor>();
                o.Interceptors.Add<BearerTokenInterceptor>();
            });
        });
        using var channel = GrpcChannel.ForAddress(host.Address);
        var client = new TestService.TestServiceClient(channel);

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await client.EmptyCallAsync(new Empty()));
        Assert.Equal(new Status(StatusCode.Unauthenticated, "A bearer token is required."), refused.Status);

        await client.EmptyCallAsync(new Empty(), new Metadata { { "authorization", "Bearer let-me-in" } });

        // The defaults' limit runs first: the service's interceptors never see oversized metadata.
        var tooBig = await Assert.ThrowsAsync<RpcException>(async () => await client.EmptyCallAsync(new Empty(),
            new Metadata { { "authorization", "Bearer let-me-in" }, { "x-large", new string('a', 20_000) } }));
        Assert.Equal(StatusCode.ResourceExhausted, tooBig.StatusCode);

        const string method = "/" + ServiceHost.TestServiceName + "/EmptyCall";
        Assert.Equal(["before " + method, "after Unauthenticated", "before " + method, "after OK"], log);
    }

    [Fact]
    public async Task Call_durations_are_recorded_through_the_defaults_meter_provider()
    {
        var metrics = new List<MetricSnapshot>();
        await using var host = await ServiceHost.StartAsync("metrics-test", configure: o => o.ConfigureMetrics = m => m.AddInMemoryExporter(metrics));
        using var channel = GrpcChannel.ForAddress(host.Address);
        await Assert.ThrowsAsync<RpcException>(async () => await new TestService.TestServiceClient(channel).UnaryCallAsync(
            new SimpleRequest { ResponseStatus = new EchoStatus { Code = (int)StatusCode.NotFound, Message = "x" } }));

        // The request's measurement is taken when its HTTP/2 stream completes, just after the call returned.
        var meters = host.Services.GetRequiredService<MeterProvider>();
        var routes = new List<string?>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!routes.Contains(UnaryPath) && DateTime.UtcNow < deadline)
        {
            metrics.Clear();
            meters.ForceFlush();
            routes = [.. metrics.Where(m => m.Name == "http.server.request.duration")
                .SelectMany(m => m.MetricPoints)
                .Select(p => Tag(p, "http.route"))];
            await Task.Delay(20);
        }

        Assert.True(routes.Contains(UnaryPath), $"routes measured: {string.Join(", ", routes)}; metrics: {string.Join(", ", metrics.Select(m => m.Name).Distinct())}");
    }

    [Fact]
    public async Task A_client_stream_larger_than_Kestrels_default_body_limit_is_accepted()
    {
        await using var host = await ServiceHost.StartAsync("big-stream-test");
        using var channel = GrpcChannel.ForAddress(host.Address);
        using var call = new TestService.TestServiceClient(channel).StreamingInputCall();
        var chunk = new StreamingInputCallRequest { Payload = new Payload { Body = ByteString.CopyFrom(new byte[1024 * 1024]) } };
        for (var i = 0; i < 40; i++)
        {
            await call.RequestStream.WriteAsync(chunk);
        }

        await call.RequestStream.CompleteAsync();
        Assert.Equal(40 * 1024 * 1024, (await call).AggregatedPayloadSize);
    }

    [Fact]
    public async Task A_TLS_endpoint_from_configuration_serves_grpcio_and_the_generated_client()
    {
        var directory = Directory.CreateTempSubdirectory("hosting-tls-");
        try
        {
            var (certificate, certFile, keyFile) = WriteSelfSignedCertificate(directory.FullName);
            using var _ = certificate;
            var port = FreePort.Next();
            await using var app = ServiceHost.Build("tls-test", FreePort.Next(), new Dictionary<string, string?>
            {
                ["Kestrel:Endpoints:Tls:Url"] = $"https://127.0.0.1:{port}",
                ["Kestrel:Endpoints:Tls:Certificate:Path"] = certFile,
                ["Kestrel:Endpoints:Tls:Certificate:KeyPath"] = keyFile,
            });
            await app.StartAsync();

            foreach (var testCase in new[] { "large_unary", "ping_pong" })
            {
                var (exitCode, output) = await Python.RunScriptAsync("interop_client.py", "--server_host", "127.0.0.1",
                    "--server_port", port.ToString(CultureInfo.InvariantCulture), "--use_tls", "--ca_file", certFile,
                    "--server_host_override", "localhost", "--test_case", testCase);
                Assert.True(exitCode == 0, $"grpcio over TLS failed {testCase}:\n{output}");
            }

            using var handler = new SocketsHttpHandler();
            handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, _) => cert?.GetCertHashString() == certificate.GetCertHashString();
            using var channel = GrpcChannel.ForAddress($"https://localhost:{port}", new GrpcChannelOptions { HttpHandler = handler });
            var response = await new TestService.TestServiceClient(channel).UnaryCallAsync(new SimpleRequest { ResponseSize = 7 });
            Assert.Equal(7, response.Payload.Body.Length);
            await app.StopAsync();
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static StreamingOutputCallRequest SleepingRequest()
    {
        var request = new StreamingOutputCallRequest();
        request.ResponseParameters.Add(new ResponseParameters { Size = 1, IntervalUs = 30_000_000 });
        return request;
    }

    private static string? Tag(MetricPoint point, string key)
    {
        foreach (var tag in point.Tags)
        {
            if (tag.Key == key)
            {
                return tag.Value as string;
            }
        }

        return null;
    }

    /// <summary>A self-signed certificate for "localhost" and 127.0.0.1 as PEM files, the way an operator configures Kestrel.</summary>
    private static (X509Certificate2 Certificate, string CertFile, string KeyFile) WriteSelfSignedCertificate(string directory)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var certFile = Path.Combine(directory, "server.pem");
        var keyFile = Path.Combine(directory, "server.key");
        File.WriteAllText(certFile, certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return (certificate, certFile, keyFile);
    }

    internal sealed class RecordingInterceptor(List<string> log) : Interceptor
    {
        public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
            TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
        {
            log.Add("before " + context.Method);
            try
            {
                var response = await continuation(request, context);
                log.Add("after OK");
                return response;
            }
            catch (RpcException ex)
            {
                log.Add("after " + ex.StatusCode);
                throw;
            }
        }
    }

    internal sealed class BearerTokenInterceptor : Interceptor
    {
        public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
            TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation) =>
            context.RequestHeaders.GetValue("authorization") == "Bearer let-me-in"
                ? continuation(request, context)
                : throw new RpcException(new Status(StatusCode.Unauthenticated, "A bearer token is required."));
    }
}
