using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microservices.Grpc.Protocol;
using Microservices.Grpc.Server;

namespace Microservices.Grpc.Telemetry;

/// <summary>
/// The ActivitySource of the gRPC layer: one span per call, server and client, named
/// "{rpc.service}/{rpc.method}" with the OpenTelemetry rpc semantic-convention attributes.
/// </summary>
public static class GrpcTelemetry
{
    public const string ActivitySourceName = "Microservices.Grpc";

    /// <summary>The Meter of the gRPC layer: rpc.server.duration and rpc.client.duration, in seconds.</summary>
    public const string MeterName = "Microservices.Grpc";

    internal static readonly ActivitySource Source = new(ActivitySourceName);

    private static readonly Meter Meter = new(MeterName);

    private static readonly Histogram<double> ServerDuration = Meter.CreateHistogram<double>(
        "rpc.server.duration", "s", "Duration of calls served, by service, method and status.");

    private static readonly Histogram<double> ClientDuration = Meter.CreateHistogram<double>(
        "rpc.client.duration", "s", "Duration of calls made, by service, method and status.");

    internal static void RecordServer(string service, string method, Status status, TimeSpan elapsed) =>
        Record(ServerDuration, service, method, status, elapsed);

    internal static void RecordClient(string service, string method, Status status, TimeSpan elapsed) =>
        Record(ClientDuration, service, method, status, elapsed);

    internal static Activity? StartServer(string service, string method, ServerCall call)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var headers = call.HttpContext.Request.Headers;
        ActivityContext.TryParse(headers[GrpcHeaders.TraceParent], headers[GrpcHeaders.TraceState], isRemote: true, out var parent);
        var activity = Source.StartActivity(service + "/" + method, ActivityKind.Server, parent);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("rpc.system", "grpc");
            activity.SetTag("rpc.service", service);
            activity.SetTag("rpc.method", method);
            activity.SetTag("network.peer.address", call.Peer);
        }

        return activity;
    }

    internal static Activity? StartClient(string service, string method, string host, int port)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var activity = Source.StartActivity(service + "/" + method, ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("rpc.system", "grpc");
            activity.SetTag("rpc.service", service);
            activity.SetTag("rpc.method", method);
            activity.SetTag("server.address", host);
            activity.SetTag("server.port", port);
        }

        return activity;
    }

    internal static void Stop(Activity? activity, Status status)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag("rpc.grpc.status_code", (int)status.Code);
        if (status.Code != StatusCode.OK)
        {
            activity.SetStatus(ActivityStatusCode.Error, status.Detail);
        }

        activity.Dispose();
    }

    private static void Record(Histogram<double> histogram, string service, string method, Status status, TimeSpan elapsed)
    {
        if (!histogram.Enabled)
        {
            return;
        }

        histogram.Record(
            elapsed.TotalSeconds,
            new KeyValuePair<string, object?>("rpc.system", "grpc"),
            new KeyValuePair<string, object?>("rpc.service", service),
            new KeyValuePair<string, object?>("rpc.method", method),
            new KeyValuePair<string, object?>("rpc.grpc.status_code", (int)status.Code));
    }

    /// <summary>Splits "/package.Service/Method" into its service and method names.</summary>
    internal static (string Service, string Method) SplitPath(string path)
    {
        var slash = path.IndexOf('/', 1);
        return slash < 0 ? (path.TrimStart('/'), "") : (path[1..slash], path[(slash + 1)..]);
    }
}
