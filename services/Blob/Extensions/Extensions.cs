using System.Net;
using Microservices.Blob.AtRest;
using Microservices.Blob.Caching;
using Microservices.Blob.Domain;
using Microservices.Blob.Gateway;
using Microservices.Blob.Index;
using Microservices.Blob.Storage;
using Microservices.Caching;
using Microservices.Caching.RateLimiting;
using Microservices.Hosting.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Microservices.Blob.Extensions;

/// <summary>The blob service's wiring, in one place (as eShop's Basket.API does).</summary>
internal static class Extensions
{
    public static WebApplicationBuilder AddBlobServices(this WebApplicationBuilder builder)
    {
        var options = ReadOptions(builder.Configuration);
        builder.AddOwnerAuthentication();
        builder.Services.AddOwnerRateLimits(builder.Configuration);
        var services = builder.Services;
        services.AddSingleton(options);
        if (options.Gateway.Port > 0 && string.IsNullOrEmpty(options.Gateway.CapabilityKey) && !options.Gateway.AllowDigestOnly)
        {
            // Without it references carry no capability and the gateway could serve nothing.
            throw new InvalidOperationException(
                "The gateway is on (Blob:Gateway:Port) but Blob:Gateway:CapabilityKey is not set: give it base64 of 32 random bytes (a Secret), or set Blob:Gateway:Port=0.");
        }

        if (!string.IsNullOrEmpty(options.Gateway.CapabilityKey))
        {
            var key = new byte[options.Gateway.CapabilityKey.Length];
            if (!Convert.TryFromBase64String(options.Gateway.CapabilityKey, key, out var length) || length < 32)
            {
                // Never the value itself: it is a secret.
                throw new InvalidOperationException("Blob:Gateway:CapabilityKey must be base64 of at least 32 bytes (e.g. openssl rand -base64 32).");
            }

            key = key[..length];

            services.AddSingleton(sp => new BlobCapability(key, sp.GetRequiredService<TimeProvider>()));
        }

        services.AddSingleton(TimeProvider.System);
        services.AddTwoLevelCache(builder.Configuration, servicePrefix: "blob");
        services.AddBlobDomain(options);
        services.AddHostedService<BlobStartup>();
        services.AddHostedService<GarbageCollector>();

        if (options.Gateway.Port > 0)
        {
            // The image gateway is plain HTTP/1.1 (browsers, markdown renderers) next to the h2c gRPC port.
            // Said per endpoint: the host's endpoint default is Http2, which a browser cannot speak in cleartext.
            builder.WebHost.ConfigureKestrel(kestrel =>
            {
                if (options.Gateway.Host is "*" or "0.0.0.0")
                {
                    kestrel.ListenAnyIP(options.Gateway.Port, listen => listen.Protocols = HttpProtocols.Http1);
                }
                else
                {
                    kestrel.Listen(IPAddress.Parse(options.Gateway.Host), options.Gateway.Port, listen => listen.Protocols = HttpProtocols.Http1);
                }
            });
        }

        return builder;
    }

    public static WebApplication MapBlobGateway(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<BlobOptions>();
        if (options.Gateway.Port > 0)
        {
            app.MapBlobGateway(options.Gateway.Port);
        }

        return app;
    }

    /// <summary>Domain and storage; separate so tests can build the domain without a host.</summary>
    public static IServiceCollection AddBlobDomain(this IServiceCollection services, BlobOptions options)
    {
        var data = Path.GetFullPath(options.DataDirectory);
        services.AddSingleton<IBlobStorage>(_ => CreateStorage(options, data));
        services.AddSingleton<IBlobIndex>(_ => options.Index.IsPostgres
            ? new PostgresBlobIndex(options.Index.ConnectionString ?? "")
            : new SqliteBlobIndex(Path.Combine(data, "index.db")));
        services.AddSingleton(_ => new StagingArea(Path.Combine(data, "staging")));
        services.AddSingleton(sp => new AtRestCodec(
            new MasterKeyRing(options.Encryption.Keys, options.Encryption.ActiveKeyId), sp.GetRequiredService<StagingArea>().Directory));
        services.AddSingleton(sp => new BlobMetadataCache(sp.GetRequiredService<ITwoLevelCache>(), options.MetadataCached));
        services.AddSingleton(sp => sp.GetRequiredService<IBlobStorage>().Kind == "s3"
            ? new LocalBlobCache(options.Cache.Path ?? Path.Combine(data, "cache"), options.Cache.MaxBytes, options.Cache.MaxEntryBytes)
            : null!);
        services.AddSingleton(sp => new BlobStore(
            sp.GetRequiredService<IBlobStorage>(),
            sp.GetRequiredService<IBlobIndex>(),
            sp.GetRequiredService<AtRestCodec>(),
            sp.GetRequiredService<BlobMetadataCache>(),
            sp.GetService<LocalBlobCache>(),
            sp.GetRequiredService<StagingArea>(),
            sp.GetRequiredService<TimeProvider>(),
            options.Gc.GracePeriod,
            options.Limits.OwnerQuotaBytes));
        services.AddSingleton(sp => new UploadSessions(
            sp.GetRequiredService<BlobStore>(), sp.GetRequiredService<IBlobIndex>(), sp.GetRequiredService<TimeProvider>(), Path.Combine(data, "uploads"), options.Limits.MaxOpenUploadsPerOwner));
        return services;
    }

    internal static BlobOptions ReadOptions(IConfiguration configuration)
    {
        var options = new BlobOptions();
        configuration.GetSection(BlobOptions.Section).Bind(options);
        // ./dev sets DataDirectory at the root; Blob:DataDirectory is the service's own spelling.
        if (!string.IsNullOrEmpty(configuration["DataDirectory"]) && string.IsNullOrEmpty(configuration["Blob:DataDirectory"]))
        {
            options.DataDirectory = configuration["DataDirectory"]!;
        }

        if (!options.Index.IsPostgres && !string.Equals(options.Index.Kind, "sqlite", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"Blob:Index:Kind is '{options.Index.Kind}'; expected 'sqlite' (one instance) or 'postgres' (several replicas).");
        }

        if (options.Index.IsPostgres && string.IsNullOrWhiteSpace(options.Index.ConnectionString))
        {
            throw new InvalidOperationException(
                "Blob:Index:Kind is 'postgres' but Blob:Index:ConnectionString is empty: set it (an Npgsql connection string, from a Secret), or use Blob:Index:Kind=sqlite for one instance.");
        }

        // A shared index with an in-process-only cache would let one replica keep serving metadata
        // another replica changed (collected, referenced): without Redis to carry invalidations, Stat reads the index.
        options.MetadataCached = !options.Index.IsPostgres || !string.IsNullOrWhiteSpace(configuration["Redis:ConnectionString"]);

        if (options.Gc.GracePeriod < TimeSpan.Zero || options.Gc.Interval <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("Blob:Gc:GracePeriod must not be negative and Blob:Gc:Interval must be positive.");
        }

        if (options.Limits.MaxOpenUploadsPerOwner <= 0)
        {
            throw new InvalidOperationException("Blob:Limits:MaxOpenUploadsPerOwner must be positive.");
        }

        if (options.Limits.OwnerQuotaBytes < 0)
        {
            throw new InvalidOperationException("Blob:Limits:OwnerQuotaBytes must not be negative (0: no quota).");
        }

        if (options.Limits.MaxBlobBytes <= 0 || options.Limits.MaxDataUriBytes <= 0)
        {
            throw new InvalidOperationException("Blob:Limits:MaxBlobBytes and Blob:Limits:MaxDataUriBytes must be positive.");
        }

        return options;
    }

    private static IBlobStorage CreateStorage(BlobOptions options, string data) => options.Storage.Kind.ToLowerInvariant() switch
    {
        "filesystem" or "fs" => new FileSystemBlobStorage(options.Storage.Path ?? Path.Combine(data, "objects")),
        "s3" => new S3BlobStorage(options.Storage.S3),
        _ => throw new InvalidOperationException($"Blob:Storage:Kind is '{options.Storage.Kind}'; expected 'filesystem' or 's3'."),
    };

    /// <summary>Creates the index (and the bucket, if asked) before anything is served; a failure stops the host.</summary>
    private sealed class BlobStartup(IBlobIndex index, IBlobStorage storage, BlobOptions options) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            await index.InitializeAsync(cancellationToken).ConfigureAwait(false);
            if (storage is S3BlobStorage s3 && options.Storage.S3.CreateBucket)
            {
                await s3.EnsureBucketAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
