using System.Diagnostics.Metrics;
using System.Text;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microservices.Hosting.Tests.Support;
using Microsoft.Extensions.Configuration;

namespace Microservices.Hosting.Tests;

public sealed class OtlpExportTests
{
    private static readonly Meter TestMeter = new("Microservices.Hosting.Tests");
    private static readonly Counter<long> Calls = TestMeter.CreateCounter<long>("hosting_tests_otlp_calls");

    [Fact]
    public async Task Spans_and_metrics_reach_an_OTLP_http_protobuf_endpoint()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        var host = await ServiceHost.StartAsync("otlp-export-test", new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        });
        try
        {
            using var channel = GrpcChannel.ForAddress(host.Address);
            await new HealthClient(channel).CheckAsync(new HealthCheckRequest());
            Calls.Add(1);
        }
        finally
        {
            // Stopping flushes and disposing shuts the providers down: both export what is pending.
            await host.DisposeAsync();
        }

        var traces = receiver.Requests.Where(r => r.Path == "/v1/traces").ToList();
        Assert.NotEmpty(traces);
        Assert.All(traces, r => Assert.Equal("application/x-protobuf", r.ContentType));
        Assert.Contains(traces, r => Contains(r.Body, "otlp-export-test") && Contains(r.Body, "grpc.health.v1.Health/Check"));

        Assert.Contains(receiver.Bodies("/v1/metrics"), body => Contains(body, "otlp-export-test") && Contains(body, "hosting_tests_otlp_calls"));
    }

    [Theory]
    [InlineData(null, null, null, null, false, false)]
    [InlineData("http://collector:4318", null, null, null, true, true)]
    [InlineData(null, "http://collector:4318/v1/traces", null, null, true, false)]
    [InlineData("http://collector:4318", null, "none", null, false, true)]
    [InlineData("http://collector:4318", null, "zipkin", null, false, true)]
    [InlineData("http://collector:4318", null, null, "true", false, false)]
    public void OTLP_export_is_on_only_for_a_configured_endpoint_and_exporter(
        string? endpoint, string? tracesEndpoint, string? tracesExporter, string? sdkDisabled, bool traces, bool metrics)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint,
            ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = tracesEndpoint,
            ["OTEL_TRACES_EXPORTER"] = tracesExporter,
            ["OTEL_SDK_DISABLED"] = sdkDisabled,
        }).Build();

        Assert.Equal(traces, Telemetry.OtlpSettings.ForTraces(configuration).Enabled);
        Assert.Equal(metrics, Telemetry.OtlpSettings.ForMetrics(configuration).Enabled);
        Assert.Equal(tracesExporter == "zipkin", Telemetry.OtlpSettings.ForTraces(configuration).Warning is not null);
    }

    [Fact]
    public async Task OTEL_TRACES_EXPORTER_none_exports_no_spans_even_with_an_endpoint()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        var host = await ServiceHost.StartAsync("otlp-none-test", new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_TRACES_EXPORTER"] = "none",
            ["OTEL_METRICS_EXPORTER"] = "none",
        });
        try
        {
            using var channel = GrpcChannel.ForAddress(host.Address);
            await new HealthClient(channel).CheckAsync(new HealthCheckRequest());
        }
        finally
        {
            await host.DisposeAsync();
        }

        Assert.Empty(receiver.Requests);
    }

    private static bool Contains(byte[] body, string text) =>
        body.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;
}
