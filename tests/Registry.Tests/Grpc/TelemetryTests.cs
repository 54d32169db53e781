using Microservices.TestSupport;
using System.Diagnostics;
using Microservices.Registry.Repositories;
using OpenTelemetry.Trace;

namespace Microservices.Registry.Tests.Grpc;

/// <summary>
/// One trace across a call: the caller's span, the gRPC client span, the registry's server span
/// its Redis commands (the cache tier's, through StackExchange.Redis' instrumentation) and its
/// database spans (SQLite: the store's own; PostgreSQL: Npgsql's), with a real redis-server behind the cache and spans taken from the host's tracer by the in-memory exporter.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class TelemetryTests(PostgresServer postgres) : IAsyncLifetime
{
    // Under "Microservices.*", so the host's tracer records it, and with it the whole call.
    private static readonly ActivitySource Caller = new("Microservices.Registry.Tests");

    private const string RedisSourceName = "OpenTelemetry.Instrumentation.StackExchangeRedis";

    private readonly TempDirectory _directory = new();
    private readonly SpanList _exported = [];
    private RedisServer _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _redis.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task A_get_on_sqlite_is_one_trace_from_the_caller_to_the_store()
    {
        await using var host = await RegistryHost.StartAsync(_directory.File("registry.db"), _redis.Settings, Export);
        var (trace, server) = await GetInOneTraceAsync(host);

        var reads = trace.Where(s => s.Source.Name == TracedModelStore.SourceName && Under(s, server, trace)).ToList();
        var read = Assert.Single(reads, s => (string?)s.GetTagItem("db.operation.name") == "find_by_id");
        Assert.Equal(ActivityKind.Client, read.Kind);
        Assert.Equal("sqlite", read.GetTagItem("db.system.name"));
        Assert.Equal("registry.db", read.GetTagItem("db.namespace"));
        Assert.Equal("find_by_id registry.db", read.DisplayName);
    }

    [Fact]
    public async Task A_get_on_postgres_is_one_trace_from_the_caller_to_npgsql()
    {
        var settings = _redis.Settings;
        settings["Registry:Store:Kind"] = "postgres";
        settings["Registry:Store:Postgres:ConnectionString"] = await postgres.CreateDatabaseAsync();
        await using var host = await RegistryHost.StartAsync(_directory.File("unused.db"), settings, Export);
        var (trace, server) = await GetInOneTraceAsync(host);

        var commands = trace.Where(s => s.Source.Name == "Npgsql" && Under(s, server, trace)).ToList();
        Assert.NotEmpty(commands);
        Assert.All(commands, s => Assert.Equal(ActivityKind.Client, s.Kind));
        Assert.Contains(commands, s => s.Tags.Any(t => t.Key is "db.system" or "db.system.name" && t.Value == "postgresql"));
    }

    private void Export(Microservices.Hosting.ServiceDefaultsOptions options) =>
        options.ConfigureTracing = tracing => tracing.AddInMemoryExporter(_exported);

    /// <summary>
    /// Registers a model (outside the trace), then reads it back — a cache miss, so it reaches
    /// Redis and the database — inside a caller span; returns that trace once the server span is
    /// exported, checking the chain caller → gRPC client → server.
    /// </summary>
    private async Task<(IReadOnlyList<Activity> Trace, Activity Server)> GetInOneTraceAsync(RegistryHost host)
    {
        await host.Client.RegisterAsync(Rpc.NewModel("alice", "m1", alias: "one"), Rpc.Timeout);
        ActivityTraceId traceId;
        using (var caller = Caller.StartActivity("caller"))
        {
            Assert.NotNull(caller);
            traceId = caller.TraceId;
            Assert.Equal("one", (await host.Client.GetByIdAsync("alice", "m1")).Alias);
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var trace = _exported.Snapshot().Where(s => s.TraceId == traceId).ToList();

            var root = trace.SingleOrDefault(s => s.Source == Caller);
            var client = trace.SingleOrDefault(s => s.Kind == ActivityKind.Client && IsGet(s));
            var server = trace.SingleOrDefault(s => s.Kind == ActivityKind.Server && IsGet(s));

            // StackExchange.Redis' instrumentation drains its profiling sessions on a timer, so
            // the cache's Redis commands arrive after the server span.
            var redis = server is null ? [] : trace.Where(s => s.Source.Name == RedisSourceName && Under(s, server, trace)).ToList();
            if (root is not null && client is not null && server is not null && redis.Count > 0)
            {
                Assert.Equal(root.SpanId, client.ParentSpanId);
                Assert.True(Under(server, client, trace), "the server span does not continue the client's");
                Assert.Equal("OK", server.GetTagItem("rpc.response.status_code"));
                Assert.All(redis, s => Assert.Equal(ActivityKind.Client, s.Kind));
                Assert.Contains(redis, s => (string?)s.GetTagItem("db.system.name") == "redis" || (string?)s.GetTagItem("db.system") == "redis");
                return (trace, server);
            }

            Assert.True(DateTime.UtcNow < deadline, $"spans of trace {traceId} not exported: {string.Join(", ", trace.Select(s => $"{s.Kind} {s.DisplayName} [{string.Join(" ", s.Tags.Select(t => t.Key + "=" + t.Value))}]"))}");
            await Task.Delay(20);
        }
    }

    // The rpc semantic conventions of OpenTelemetry 1.20's instrumentation: rpc.method is "service/method".
    private static bool IsGet(Activity span) =>
        (string?)span.GetTagItem("rpc.system.name") == "grpc" && (string?)span.GetTagItem("rpc.method") == "microservices.registry.v1.ModelRegistry/Get";

    private static bool Under(Activity span, Activity ancestor, IReadOnlyList<Activity> trace)
    {
        for (var parent = span.ParentSpanId; parent != default; parent = trace.FirstOrDefault(s => s.SpanId == parent)?.ParentSpanId ?? default)
        {
            if (parent == ancestor.SpanId)
            {
                return true;
            }
        }

        return false;
    }
}
