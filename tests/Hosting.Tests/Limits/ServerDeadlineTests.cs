using Google.Protobuf;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microservices.Hosting.Server;
using Microservices.Hosting.Tests.Support;
using Microservices.Testing.V1;
using Microservices.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Microservices.Hosting.Tests.Limits;

/// <summary>ServerDeadlineInterceptor: every call ends by the server's deadline, even when the client set none.</summary>
public sealed class ServerDeadlineTests
{
    private const string StreamingOutputPath = "/" + ServiceHost.TestServiceName + "/StreamingOutputCall";

    private static StreamingOutputCallRequest SleepingRequest()
    {
        var request = new StreamingOutputCallRequest();
        request.ResponseParameters.Add(new ResponseParameters { Size = 1, IntervalUs = 30_000_000 });
        return request;
    }

    [Fact]
    public async Task A_streaming_call_past_its_limit_is_cancelled_and_ends_deadline_exceeded_naming_the_limit()
    {
        var observer = new CallObserver();
        await using var host = await ServiceHost.StartAsync("server-limit-test",
            new Dictionary<string, string?> { ["Grpc:MaxStreamingDuration"] = "00:00:00.2" },
            services: b => b.Services.AddSingleton(observer));
        using var channel = GrpcChannel.ForAddress(host.Address);
        using var call = new TestService.TestServiceClient(channel).StreamingOutputCall(SleepingRequest());
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
        Assert.Equal(new Status(StatusCode.DeadlineExceeded, "server deadline of 200 ms for " + StreamingOutputPath), error.Status);
        Assert.Equal(StreamingOutputPath, await observer.HandlerCancelled.WaitAsync(TimeSpan.FromSeconds(20)));

        // Unary calls have their own (default 30 s) limit.
        await new TestService.TestServiceClient(channel).EmptyCallAsync(new Empty());
    }

    [Fact]
    public async Task A_per_method_limit_overrides_the_kind_default_and_still_serves_metadata_through_the_wrapped_context()
    {
        await using var host = await ServiceHost.StartAsync("method-limit-test", new Dictionary<string, string?>
        {
            ["Grpc:MaxCallDurations:TestService.FullDuplexCall"] = "00:00:00.3",
        });
        using var channel = GrpcChannel.ForAddress(host.Address);
        var client = new TestService.TestServiceClient(channel);
        using var duplex = client.FullDuplexCall(new Metadata { { "x-grpc-test-echo-initial", "hello" } });
        Assert.Equal("hello", (await duplex.ResponseHeadersAsync).GetValue("x-grpc-test-echo-initial"));
        var error = await Assert.ThrowsAsync<RpcException>(() => duplex.ResponseStream.MoveNext());
        Assert.Equal(new Status(StatusCode.DeadlineExceeded, "server deadline of 300 ms for /" + ServiceHost.TestServiceName + "/FullDuplexCall"), error.Status);

        // Other streaming methods keep the 1 h default: this one completes normally.
        var request = new StreamingOutputCallRequest();
        request.ResponseParameters.Add(new ResponseParameters { Size = 1 });
        using var output = client.StreamingOutputCall(request);
        Assert.True(await output.ResponseStream.MoveNext());
        Assert.False(await output.ResponseStream.MoveNext());
    }

    [Fact]
    public async Task A_shorter_client_deadline_wins()
    {
        await using var host = await ServiceHost.StartAsync("client-deadline-test", new Dictionary<string, string?> { ["Grpc:MaxStreamingDuration"] = "00:10:00" });
        using var raw = RawGrpc.CreateClient();
        var message = RawGrpc.Request(host.Address, StreamingOutputPath, RawGrpc.Frame(SleepingRequest().ToByteArray()));
        message.Headers.TryAddWithoutValidation("grpc-timeout", "200m");
        var response = await RawGrpc.SendAsync(raw, message);
        Assert.Equal((int)StatusCode.DeadlineExceeded, response.GrpcStatus);
        Assert.DoesNotContain("server deadline", response.GrpcMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Calls_made_while_serving_see_the_server_deadline_through_the_call_context_feature()
    {
        var seen = new DeadlineRecorder();
        await using var host = await ServiceHost.StartAsync("propagated-deadline-test", services: b =>
        {
            b.Services.AddSingleton(seen);
            b.Services.AddGrpc(grpc => grpc.Interceptors.Add<DeadlineRecorder>());
        });
        using var channel = GrpcChannel.ForAddress(host.Address);
        var before = DateTime.UtcNow;
        await new TestService.TestServiceClient(channel).EmptyCallAsync(new Empty());

        // What Grpc.AspNetCore.Server.ClientFactory's propagation reads: the 30 s unary deadline, not "none".
        Assert.InRange(seen.Deadline, before.AddSeconds(29), DateTime.UtcNow.AddSeconds(31));
    }

    /// <summary>The deadline an outgoing call made during the call would inherit.</summary>
    private sealed class DeadlineRecorder : Interceptor
    {
        public DateTime Deadline { get; private set; }

        public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
        {
            Deadline = context.GetHttpContext().Features.Get<IServerCallContextFeature>()!.ServerCallContext.Deadline;
            return continuation(request, context);
        }
    }

    [Theory]
    [InlineData("/microservices.export.v1.ExportService/StartExport", "ExportService.StartExport")]
    [InlineData("ExportService/StartExport", "ExportService.StartExport")]
    [InlineData("ExportService.StartExport", "ExportService.StartExport")]
    [InlineData("microservices.export.v1.ExportService.StartExport", "ExportService.StartExport")]
    public void Method_names_in_configuration_are_keyed_service_dot_method(string configured, string key) =>
        Assert.Equal(key, GrpcMethodNames.Key(configured));

    [Fact]
    public void A_per_method_limit_that_names_no_method_fails_start_up_naming_its_key()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            ServiceHost.Build("bad-limit-test", FreePort.Next(), new Dictionary<string, string?> { ["Grpc:MaxCallDurations:StartExport"] = "00:00:01" })
                .Services.GetRequiredService<ServerDeadlineInterceptor>());
        Assert.Contains("Grpc:MaxCallDurations:StartExport", error.Message, StringComparison.Ordinal);
    }
}
