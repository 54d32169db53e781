using System.Diagnostics;
using Grpc.Health.V1;
using Microservices.Grpc;
using Microservices.Grpc.Client;
using Microservices.Grpc.Telemetry;
using Microservices.Hosting.Tests.Support;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using StatusCode = Microservices.Grpc.StatusCode;

namespace Microservices.Hosting.Tests;

public sealed class TracingTests
{
    // Named under "Microservices.*", so the host's provider samples it like any team library.
    private static readonly ActivitySource Caller = new("Microservices.Hosting.Tests.Caller");

    [Fact]
    public async Task One_server_span_per_call_continues_the_callers_trace()
    {
        var exporter = new CapturingExporter();
        await using var host = await ServiceHost.StartAsync("tracing-test",
            configure: o => o.ConfigureTracing = t => t.AddProcessor(new SimpleActivityExportProcessor(exporter)));
        using var channel = GrpcChannel.ForAddress(host.Address);

        ActivityTraceId traceId;
        ActivitySpanId callerSpanId;
        using (var parent = Caller.StartActivity("caller"))
        {
            Assert.NotNull(parent);
            traceId = parent.TraceId;
            callerSpanId = parent.SpanId;
            await channel.UnaryAsync(Health.Check, new HealthCheckRequest());
            var notFound = await Assert.ThrowsAsync<RpcException>(() =>
                channel.UnaryAsync(Health.Check, new HealthCheckRequest { Service = "no.such.Service" }));
            Assert.Equal(StatusCode.NotFound, notFound.StatusCode);
        }

        var spans = await exporter.WaitForAsync(traceId, s => s.Count(a => a.Kind == ActivityKind.Server) >= 2);
        var servers = spans.Where(s => s.Kind == ActivityKind.Server).OrderBy(s => s.StartTimeUtc).ToList();
        var clients = spans.Where(s => s.Kind == ActivityKind.Client).OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal(2, servers.Count);
        Assert.Equal(2, clients.Count);

        for (var i = 0; i < 2; i++)
        {
            var server = servers[i];
            Assert.Equal(GrpcTelemetry.ActivitySourceName, server.Source.Name);
            Assert.Equal("grpc.health.v1.Health/Check", server.DisplayName);
            Assert.Equal("grpc", server.GetTagItem("rpc.system"));
            Assert.Equal("grpc.health.v1.Health", server.GetTagItem("rpc.service"));
            Assert.Equal("Check", server.GetTagItem("rpc.method"));
            Assert.Equal(clients[i].SpanId, server.ParentSpanId);
            Assert.Equal(callerSpanId, clients[i].ParentSpanId);
        }

        Assert.Equal((int)StatusCode.OK, servers[0].GetTagItem("rpc.grpc.status_code"));
        Assert.Equal(ActivityStatusCode.Unset, servers[0].Status);
        Assert.Equal((int)StatusCode.NotFound, servers[1].GetTagItem("rpc.grpc.status_code"));
        Assert.Equal(ActivityStatusCode.Error, servers[1].Status);
    }

    [Fact]
    public async Task Service_name_defaults_to_the_host_and_OTEL_SERVICE_NAME_overrides_it()
    {
        Assert.Equal("named-by-host", await ExportedServiceNameAsync(new Dictionary<string, string?>()));
        Assert.Equal("named-by-operator", await ExportedServiceNameAsync(new Dictionary<string, string?>
        {
            ["OTEL_SERVICE_NAME"] = "named-by-operator",
        }));
    }

    private static async Task<string?> ExportedServiceNameAsync(Dictionary<string, string?> settings)
    {
        var exporter = new CapturingExporter();
        await using var host = await ServiceHost.StartAsync("named-by-host", settings,
            o => o.ConfigureTracing = t => t.AddProcessor(new SimpleActivityExportProcessor(exporter)));
        var resource = exporter.ParentProvider!.GetResource();
        return resource.Attributes.FirstOrDefault(a => a.Key == "service.name").Value as string;
    }
}
