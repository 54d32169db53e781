using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using Grpc.Net.Client;
using Microservices.Blob.Extensions;
using Microservices.Blob.Grpc;
using Microservices.Blob.V1;
using Microservices.Clients;
using Microservices.Export.Extensions;
using Microservices.Export.Grpc;
using Microservices.Export.V1;
using Microservices.Hosting;
using Microservices.Registry.Extensions;
using Microservices.Registry.Grpc;
using Microservices.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;

namespace Microservices.Export.Tests.Support;

/// <summary>
/// One installation: a real redis-server and S3 server (s3rver) as processes, and registry, blob and
/// export hosts built as their Program.cs builds them, in-process on free ports, each with its data in
/// a temp directory. Hosts can be stopped and started again on the same port and data (a restart),
/// and a second export replica can join. Spans of every host land in <see cref="Spans"/>.
/// </summary>
internal sealed class ExportSystem : IAsyncDisposable
{
    private readonly TempDirectory _data = new();
    private readonly List<WebApplication> _exportReplicas = [];
    private readonly Dictionary<string, string?> _exportSettings;
    private CapturedLogs? _logs;
    private WebApplication? _registry;
    private WebApplication? _blob;

    private ExportSystem(RedisServer redis, S3Server s3, Dictionary<string, string?> exportSettings)
    {
        Redis = redis;
        S3 = s3;
        _exportSettings = exportSettings;
        RegistryPort = FreePort.Next();
        BlobPort = FreePort.Next();
        ExportPort = FreePort.Next();
        ExportChannel = GrpcChannels.Create($"http://127.0.0.1:{ExportPort}");
        RegistryChannel = GrpcChannels.Create($"http://127.0.0.1:{RegistryPort}");
        BlobChannel = GrpcChannels.Create($"http://127.0.0.1:{BlobPort}");
        Export = new ExportService.ExportServiceClient(ExportChannel);
        Registry = new ModelRegistryClient(RegistryChannel);
        Blob = new BlobService.BlobServiceClient(BlobChannel);
    }

    public RedisServer Redis { get; }

    public S3Server S3 { get; }

    public int RegistryPort { get; }

    public int BlobPort { get; }

    public int ExportPort { get; }

    public GrpcChannel ExportChannel { get; }

    public GrpcChannel RegistryChannel { get; }

    public GrpcChannel BlobChannel { get; }

    public ExportService.ExportServiceClient Export { get; }

    public ModelRegistryClient Registry { get; }

    public BlobService.BlobServiceClient Blob { get; }

    /// <summary>
    /// Every finished span in this process: the export host's in-memory exporter hears every
    /// ActivitySource here, registry's and blob's server spans included.
    /// </summary>
    public SpanList Spans { get; } = [];

    public WebApplication ExportHost => _exportReplicas[0];

    public T ExportService<T>() where T : notnull => ExportHost.Services.GetRequiredService<T>();

    /// <param name="exportSettings">Export settings over the defaults (e.g. Export:Window).</param>
    /// <param name="logs">When set, every host logs into it from Debug up (the leak test reads them).</param>
    public static async Task<ExportSystem> StartAsync(Dictionary<string, string?>? exportSettings = null, string bucket = "exports", CapturedLogs? logs = null)
    {
        var redis = await RedisServer.StartAsync();
        var s3 = await S3Server.StartAsync(bucket);
        var system = new ExportSystem(redis, s3, exportSettings ?? []) { _logs = logs };
        try
        {
            await system.StartRegistryAsync();
            await system.StartBlobAsync();
            await system.AddExportReplicaAsync(system.ExportPort);
            return system;
        }
        catch
        {
            await system.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Settings that let imports fetch archive_url from this machine's test servers (s3rver's presigned
    /// links, <see cref="ArchiveHttpServer"/>): plain http, and 127.0.0.1 allowed although it is loopback.
    /// </summary>
    public static Dictionary<string, string?> LoopbackArchiveUrls(Dictionary<string, string?>? settings = null) => new(settings ?? [])
    {
        ["Export:Import:AllowHttpUrls"] = "true",
        ["Export:Import:AllowedUrlHosts:0"] = "127.0.0.1",
    };

    /// <summary>A call made with a valid token whose subject is <paramref name="owner"/>.</summary>
    public static CallOptions As(string owner, TimeSpan? timeout = null) => With(TestTokens.For(owner), timeout);

    /// <summary>A call carrying <paramref name="token"/> (none when null).</summary>
    public static CallOptions With(string? token, TimeSpan? timeout = null) =>
        new(headers: TestTokens.Bearer(token), deadline: DateTime.UtcNow.Add(timeout ?? TimeSpan.FromMinutes(2)));

    /// <summary>What registry and blob saw of every call made to them: who called, for which job and with which scopes.</summary>
    public CallerLog Callers { get; } = new();

    public async Task StartRegistryAsync()
    {
        var builder = Builder(new(TestTokens.SettingsWithDelegation(_data.Path))
        {
            ["Registry:Store:Sqlite:Path"] = Path.Combine(_data.Path, "registry", "registry.db"),
            ["DataDirectory"] = Path.Combine(_data.Path, "registry"),
        });
        builder.AddServiceDefaults("registry", RegistryPort);
        builder.AddRegistryServices();
        Callers.RecordOn(builder.Services, "registry");
        _registry = Build(builder);
        _registry.MapGrpcService<ModelRegistryService>();
        _registry.MapServiceDefaults();
        await _registry.StartAsync();
    }

    public async Task StopRegistryAsync() => await StopAsync(_registry);

    public async Task StartBlobAsync()
    {
        var builder = Builder(new(TestTokens.SettingsWithDelegation(_data.Path))
        {
            ["DataDirectory"] = Path.Combine(_data.Path, "blob"),
            ["Blob:Gateway:Port"] = "0",
            ["Blob:Encryption:Keys:k1"] = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()),
            ["Grpc:MaxReceiveMessageSize"] = (4 * 1024 * 1024 + 64 * 1024).ToString(CultureInfo.InvariantCulture),
        });
        builder.AddServiceDefaults("blob", BlobPort, BlobTelemetry.Configure);
        builder.AddBlobServices();
        Callers.RecordOn(builder.Services, "blob");
        _blob = Build(builder);
        _blob.MapGrpcService<BlobGrpcService>();
        _blob.MapServiceDefaults();
        await _blob.StartAsync();
    }

    public async Task StopBlobAsync() => await StopAsync(_blob);

    /// <summary>Another export replica (same Redis, S3 and services); the first one serves <see cref="ExportPort"/>.</summary>
    public async Task<WebApplication> AddExportReplicaAsync(int? port = null)
    {
        var builder = Builder(ExportSettings());
        builder.AddServiceDefaults("export", port ?? FreePort.Next(), options =>
        {
            Microservices.Export.Extensions.Extensions.ConfigureTelemetry(options);
            var tracing = options.ConfigureTracing;
            options.ConfigureTracing = t =>
            {
                tracing?.Invoke(t);
                t.AddInMemoryExporter(Spans);
            };
        });
        builder.AddExportServices();
        var app = Build(builder);
        app.MapGrpcService<ExportGrpcService>();
        app.MapServiceDefaults();
        await app.StartAsync();
        _exportReplicas.Add(app);
        return app;
    }

    /// <summary>An export replica's settings in this installation (for a replica run as a separate process too).</summary>
    public Dictionary<string, string?> ExportSettings()
    {
        var delegationKey = Path.Combine(_data.Path, "delegation-private.pem");
        File.WriteAllText(delegationKey, TestTokens.DelegationKey.ExportPkcs8PrivateKeyPem());
        var settings = new Dictionary<string, string?>(Redis.Settings)
        {
            ["Export:Delegation:KeyFile"] = delegationKey,
            ["Export:Delegation:Issuer"] = TestTokens.DelegationIssuer,
            ["Export:Delegation:Audience"] = TestTokens.Audience,
            ["DataDirectory"] = Path.Combine(_data.Path, "export"),
            ["Export:S3:ServiceUrl"] = S3.ServiceUrl,
            ["Export:S3:Bucket"] = S3.Bucket,
            ["Export:S3:AccessKey"] = S3Server.AccessKey,
            ["Export:S3:SecretKey"] = S3Server.SecretKey,
            ["Export:S3:Compatibility"] = "true",
            ["Export:S3:CreateBucket"] = "false",
            ["Export:PollInterval"] = "00:00:00.200",
            ["Export:ProgressInterval"] = "00:00:00.200",
            ["Export:Lease"] = "00:00:03",
            ["Export:Retry:MaxDelay"] = "00:00:01",
            ["Export:Retry:MaxAttempts"] = "30",
            ["Clients:Registry:Address"] = $"http://127.0.0.1:{RegistryPort}",
            ["Clients:Blob:Address"] = $"http://127.0.0.1:{BlobPort}",
        };
        foreach (var (key, value) in TestTokens.Settings())
        {
            settings[key] = value;
        }

        foreach (var (key, value) in _exportSettings)
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>Stops one export replica the way a host shuts down: its jobs stop and their leases are released.</summary>
    public async Task StopExportReplicaAsync(WebApplication replica)
    {
        _exportReplicas.Remove(replica);
        await StopAsync(replica);
    }


    private WebApplicationBuilder Builder(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        return builder;
    }

    // After AddServiceDefaults, which replaces the logging providers with its console.
    private WebApplication Build(WebApplicationBuilder builder)
    {
        if (_logs is not null)
        {
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
            builder.Logging.AddProvider(_logs);
        }

        return builder.Build();
    }

    private static async Task StopAsync(WebApplication? app)
    {
        if (app is null)
        {
            return;
        }

        await app.StopAsync();
        await app.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        ExportChannel.Dispose();
        RegistryChannel.Dispose();
        BlobChannel.Dispose();
        foreach (var replica in _exportReplicas.ToArray())
        {
            await StopAsync(replica);
        }

        await StopAsync(_blob);
        await StopAsync(_registry);
        await S3.DisposeAsync();
        await Redis.DisposeAsync();
        _data.Dispose();
    }
}
