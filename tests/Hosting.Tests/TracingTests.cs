using System.Diagnostics;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microservices.Hosting.Tests.Support;
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
        }

        var trace = await spans.WaitForAsync(traceId, s => s.Count(a => a.Kind == ActivityKind.Server) >= 2);
        var servers = trace.Where(s => s.Kind == ActivityKind.Server).OrderBy(s => s.StartTimeUtc).ToList();
        var clients = trace.Where(s => s.Kind == ActivityKind.Client).OrderBy(s => s.StartTimeUtc).ToList();
        Assert.True(servers.Count == 2, Describe(trace));
        Assert.True(clients.Count == 2, Describe(trace));

        for (var i = 0; i < 2; i++)
        {
            var server = servers[i];
            Assert.Equal("Microsoft.AspNetCore", server.Source.Name);
            Assert.True(server.DisplayName == "grpc.health.v1.Health/Check", Describe(trace));
            Assert.True("grpc".Equals(server.GetTagItem("rpc.system.name")), Describe(trace));
            Assert.True("grpc.health.v1.Health/Check".Equals(server.GetTagItem("rpc.method")), Describe(trace));
            Assert.Equal(clients[i].SpanId, server.ParentSpanId);
            Assert.Equal(callerSpanId, clients[i].ParentSpanId);
        }

        Assert.True("OK".Equals(servers[0].GetTagItem("rpc.response.status_code")), Describe(trace));
        Assert.Equal(ActivityStatusCode.Unset, servers[0].Status);
        Assert.True("NOT_FOUND".Equals(servers[1].GetTagItem("rpc.response.status_code")), Describe(trace));
        Assert.Equal(ActivityStatusCode.Error, servers[1].Status);
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
