using System.Diagnostics;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microservices.Hosting.Tests.Support;
using Microservices.TestSupport;
using Microservices.Testing.V1;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Microsoft.Extensions.DependencyInjection;
using StatusCode = Grpc.Core.StatusCode;

namespace Microservices.Hosting.Tests;

public sealed class TracingTests
{
    // Named under "Microservices.*", so the host's provider samples it like any team library.
    private static readonly ActivitySource Caller = new("Microservices.Hosting.Tests.Caller");

    [Fact]
    public async Task One_server_span_per_call_continues_the_callers_W3C_trace_with_rpc_attributes()
    {
        var spans = new SpanList();
        await using var host = await ServiceHost.StartAsync("tracing-test",
            configure: o => o.ConfigureTracing = t => t.AddInMemoryExporter(spans));
        using var channel = GrpcChannel.ForAddress(host.Address);
        var client = new HealthClient(channel);

        ActivityTraceId traceId;
        ActivitySpanId callerSpanId;
        using (var parent = Caller.StartActivity("caller"))
        {
            Assert.NotNull(parent);
            Assert.Equal(ActivityIdFormat.W3C, parent.IdFormat);
            traceId = parent.TraceId;
            callerSpanId = parent.SpanId;
            await client.CheckAsync(new HealthCheckRequest());
            var notFound = await Assert.ThrowsAsync<RpcException>(async () =>
                await client.CheckAsync(new HealthCheckRequest { Service = "no.such.Service" }));
            Assert.Equal(StatusCode.NotFound, notFound.StatusCode);
            var failed = await Assert.ThrowsAsync<RpcException>(async () => await new TestService.TestServiceClient(channel).UnaryCallAsync(
                new SimpleRequest { ResponseStatus = new EchoStatus { Code = (int)StatusCode.Internal, Message = "broken" } }));
            Assert.Equal(StatusCode.Internal, failed.StatusCode);
        }

        var trace = await spans.WaitForAsync(traceId, s => s.Count(a => a.Kind == ActivityKind.Server) >= 3);
        var servers = trace.Where(s => s.Kind == ActivityKind.Server).OrderBy(s => s.StartTimeUtc).ToList();
        var clients = trace.Where(s => s.Kind == ActivityKind.Client).OrderBy(s => s.StartTimeUtc).ToList();
        Assert.True(servers.Count == 3, Describe(trace));
        Assert.True(clients.Count == 3, Describe(trace));

        string[] methods = ["grpc.health.v1.Health/Check", "grpc.health.v1.Health/Check", ServiceHost.TestServiceName + "/UnaryCall"];
        string[] codes = ["OK", "NOT_FOUND", "INTERNAL"];
        for (var i = 0; i < 3; i++)
        {
            // What OpenTelemetry.Instrumentation.AspNetCore 1.20 emits with its gRPC support on:
            // the HTTP span, named by route, plus the rpc.* semantic-convention attributes.
            var server = servers[i];
            var why = Describe(trace);
            Assert.Equal("Microsoft.AspNetCore", server.Source.Name);
            // Named "POST /{route}" (HTTP) or "{rpc.method}" (its gRPC path): with several tracer
            // providers in one process, as in this test run, each instrumentation instance renames
            // the shared Activity and the order decides; a service has one provider.
            Assert.True(server.DisplayName == "POST /" + methods[i] || server.DisplayName == methods[i], why);
            Assert.True("grpc".Equals(server.GetTagItem("rpc.system.name")), why);
            Assert.True(methods[i].Equals(server.GetTagItem("rpc.method")), why);
            Assert.True(codes[i].Equals(server.GetTagItem("rpc.response.status_code")), why);
            Assert.True(200.Equals(server.GetTagItem("http.response.status_code")), why);
            Assert.Equal(clients[i].SpanId, server.ParentSpanId);
            Assert.Equal(callerSpanId, clients[i].ParentSpanId);
        }

        // The rpc conventions mark a server span as an error only for codes that mean the server
        // failed; NOT_FOUND is the caller's problem, so it stays Unset (the client span says Error).
        Assert.Equal(ActivityStatusCode.Unset, servers[0].Status);
        Assert.Equal(ActivityStatusCode.Unset, servers[1].Status);
        Assert.Equal(ActivityStatusCode.Error, clients[1].Status);
        Assert.Equal(ActivityStatusCode.Error, servers[2].Status);
    }

    [Fact]
    public async Task Service_name_defaults_to_the_host_and_OTEL_SERVICE_NAME_overrides_it()
    {
        Assert.Equal("named-by-host", await ServiceNameAsync(new Dictionary<string, string?>()));
        Assert.Equal("named-by-operator", await ServiceNameAsync(new Dictionary<string, string?>
        {
            ["OTEL_SERVICE_NAME"] = "named-by-operator",
        }));
    }

    private static async Task<string?> ServiceNameAsync(Dictionary<string, string?> settings)
    {
        await using var host = await ServiceHost.StartAsync("named-by-host", settings);
        var resource = host.Services.GetRequiredService<TracerProvider>().GetResource();
        return resource.Attributes.FirstOrDefault(a => a.Key == "service.name").Value as string;
    }

    private static string Describe(IEnumerable<Activity> spans) => string.Join("\n", spans.Select(s =>
        $"{s.Kind} {s.Source.Name} '{s.DisplayName}' {s.Status} [{string.Join(", ", s.TagObjects.Select(t => $"{t.Key}={t.Value}"))}]"));
}
