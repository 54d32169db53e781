using System.Diagnostics;

namespace Microservices.Export.Tests.Support;

/// <summary>Queries over <see cref="ExportSystem.Spans"/>.</summary>
internal static class SpanQueries
{
    public const string RegistryService = "microservices.registry.v1.ModelRegistry";
    public const string BlobService = "microservices.blob.v1.BlobService";

    /// <summary>
    /// Every span once: each export replica has its own tracer provider, and each hears every span
    /// of the process, so with two replicas a span is exported twice.
    /// </summary>
    public static IReadOnlyList<Activity> Snapshot(ExportSystem system) =>
        [.. system.Spans.Snapshot().DistinctBy(s => s.SpanId)];

    /// <summary>
    /// The gRPC service of a client or server span. Client spans are named "pkg.Service/Method"
    /// (rpc.method holds the same), server spans "POST /pkg.Service/Method".
    /// </summary>
    public static string? RpcService(Activity span) => FullMethod(span) is { } method && method.IndexOf('/', StringComparison.Ordinal) is var slash and > 0
        ? method[..slash]
        : null;

    public static string RpcMethod(Activity span) => FullMethod(span) is { } method ? method[(method.LastIndexOf('/') + 1)..] : "";

    private static string? FullMethod(Activity span)
    {
        var name = span.GetTagItem("rpc.service") is string service && span.GetTagItem("rpc.method") is string method && !method.Contains('/', StringComparison.Ordinal)
            ? $"{service}/{method}"
            : span.DisplayName;
        name = name[(name.IndexOf(' ', StringComparison.Ordinal) + 1)..].TrimStart('/');
        return name.Contains('/', StringComparison.Ordinal) ? name : null;
    }

    /// <summary>Calls of one trace into a gRPC service, as its client saw them.</summary>
    public static IReadOnlyList<Activity> ClientCalls(IEnumerable<Activity> spans, ActivityTraceId trace, string service) =>
        [.. spans.Where(s => s.TraceId == trace && s.Kind == ActivityKind.Client && RpcService(s) == service)];

    public static IReadOnlyList<Activity> ServerCalls(IEnumerable<Activity> spans, ActivityTraceId trace, string service) =>
        [.. spans.Where(s => s.TraceId == trace && s.Kind == ActivityKind.Server && RpcService(s) == service)];

    /// <summary>HttpClient spans to the given port (the S3 server).</summary>
    public static IReadOnlyList<Activity> HttpClientCalls(IEnumerable<Activity> spans, int port) =>
        [.. spans.Where(s => s.Kind == ActivityKind.Client && s.Source.Name == "System.Net.Http" && Port(s) == port)];

    public static Activity JobSpan(IEnumerable<Activity> spans, string exportId) =>
        spans.Single(s => s.DisplayName == "export job" && s.GetTagItem("export.job.id") as string == exportId);

    /// <summary>Waits until the job's own span has ended (it ends a moment after the job is recorded as completed).</summary>
    public static async Task<Activity> JobSpanAsync(ExportSystem system, string exportId)
    {
        Activity? found = null;
        await Microservices.TestSupport.Eventually.HoldsAsync(
            () => (found = Snapshot(system).FirstOrDefault(s => s.DisplayName == "export job" && s.GetTagItem("export.job.id") as string == exportId)) is not null,
            $"the span of export job {exportId} has ended");
        return found!;
    }

    private static int? Port(Activity span) => span.GetTagItem("server.port") switch
    {
        int port => port,
        long port => (int)port,
        string text when int.TryParse(text, out var port) => port,
        _ => span.GetTagItem("url.full") is string url && Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Port : null,
    };
}
