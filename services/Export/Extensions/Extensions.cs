using Microservices.Blob.V1;
using Microservices.Caching;
using Microservices.Caching.RateLimiting;
using Microservices.Export.Delegation;
using Microservices.Export.Domain;
using Microservices.Export.Import;
using Microservices.Export.Jobs;
using Microservices.Export.Signing;
using Microservices.Export.Sources;
using Microservices.Export.Storage;
using Microservices.Export.Telemetry;
using Microservices.Hosting;
using Microservices.Hosting.Clients;
using Microservices.Hosting.Security;
using Microservices.Registry.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace Microservices.Export.Extensions;

/// <summary>The export service's wiring, in one place (as eShop's Basket.API does).</summary>
internal static class Extensions
{
    public const string DataDirectoryKey = "DataDirectory";

    /// <summary>Adds the export meter and activity source to the host's OpenTelemetry.</summary>
    public static void ConfigureTelemetry(ServiceDefaultsOptions options)
    {
        options.ConfigureMetrics = metrics => metrics.AddMeter(ExportMetrics.Name);
        options.ConfigureTracing = tracing => tracing.AddSource(ExportMetrics.Name);
    }

    public static WebApplicationBuilder AddExportServices(this WebApplicationBuilder builder)
    {
        builder.AddOwnerAuthentication();
        builder.Services.AddOwnerRateLimits(builder.Configuration);
        builder.Services.AddExport(builder.Configuration);
        return builder;
    }

    public static IServiceCollection AddExport(this IServiceCollection services, IConfiguration configuration)
    {
        var options = new ExportOptions();
        configuration.GetSection(ExportOptions.Section).Bind(options);
        var s3 = new S3Options();
        configuration.GetSection("Export:S3").Bind(s3);
        var retry = new RetryOptions();
        configuration.GetSection("Export:Retry").Bind(retry);
        var source = new SourceOptions();
        configuration.GetSection("Export:Source").Bind(source);
        options.Validate();
        var delegation = new DelegationOptions();
        configuration.GetSection(DelegationOptions.Section).Bind(delegation);
        if (string.IsNullOrWhiteSpace(delegation.Audience))
        {
            delegation.Audience = configuration[$"{AuthSettings.SectionName}:Audience"] ?? "";
        }

        var delegationKey = delegation.Validate(configuration[$"{AuthSettings.SectionName}:Issuer"] ?? "", configuration[DataDirectoryKey]);

        // Leases, fenced job state and the owner lock must be shared by replicas: no in-process stand-in.
        services.AddTwoLevelCache(configuration, servicePrefix: "export");
        if (!services.TryAddRedisConnection(configuration))
        {
            throw new InvalidOperationException("The export service keeps its jobs in Redis: set Redis:ConnectionString (e.g. 127.0.0.1:6379).");
        }

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton(retry);
        services.AddSingleton(source);
        services.AddSingleton<ExportMetrics>();
        services.AddSingleton<DependencyRetry>();
        services.AddSingleton(delegation);
        services.AddSingleton(new DelegatedTokenMinter(delegationKey, delegation.Issuer, delegation.Audience, JobCredentials.Actor));
        services.AddSingleton<JobCredentials>();
        services.AddSingleton(_ => ExportSigningKey.LoadOrCreate(DataPath(options.Signing.KeyPath, configuration[DataDirectoryKey]), options.Signing.CreateIfMissing));
        services.AddSingleton<IArchiveStorage>(_ => new S3ArchiveStorage(s3));
        services.AddSingleton<IJobStore>(sp => new RedisJobStore(sp.GetRequiredService<IConnectionMultiplexer>(), options.RedisPrefix));
        services.AddServiceClient<ModelRegistry.ModelRegistryClient>(configuration.GetSection("Clients:Registry"));
        services.AddServiceClient<BlobService.BlobServiceClient>(configuration.GetSection("Clients:Blob"));
        services.AddSingleton<IOwnerDataSource, GrpcOwnerDataSource>();
        services.AddSingleton<BlobPageWriter>();
        services.AddSingleton<ExportRunner>();
        services.AddSingleton<IImportTarget, GrpcImportTarget>();
        services.AddSingleton<ArchiveSources>();
        services.AddSingleton<ArchiveUrlPolicy>();
        services.AddHttpClient(ArchiveSources.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp => sp.GetRequiredService<ArchiveUrlPolicy>().Handler());
        services.AddSingleton<ImportRunner>();
        services.AddSingleton<JobFinisher>();
        services.AddSingleton<JobSweeper>();
        services.AddSingleton<JobScheduler>();
        services.AddSingleton<ExportJobs>();
        services.AddSingleton<ArchiveUploads>();
        services.AddHostedService<BucketInitializer>();
        services.AddHostedService(sp => sp.GetRequiredService<JobScheduler>());
        return services;
    }

    private static string DataPath(string path, string? dataDirectory) =>
        Path.IsPathRooted(path) || string.IsNullOrWhiteSpace(dataDirectory) ? path : Path.Combine(dataDirectory, path);

    /// <summary>Creates the bucket before anything is served, when Export:S3:CreateBucket asks for it (local servers).</summary>
    private sealed class BucketInitializer(IArchiveStorage storage) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => storage.EnsureBucketAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
