using System.Net;
using Microservices.Blob.AtRest;
using Microservices.Blob.Caching;
using Microservices.Blob.Domain;
using Microservices.Blob.Gateway;
using Microservices.Blob.Index;
using Microservices.Blob.Storage;
using Microservices.Caching;
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
        var services = builder.Services;
        services.AddSingleton(options);
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
        services.AddSingleton<IBlobIndex>(_ => new SqliteBlobIndex(Path.Combine(data, "index.db")));
        services.AddSingleton(_ => new StagingArea(Path.Combine(data, "staging")));
        services.AddSingleton(sp => new AtRestCodec(
            new MasterKeyRing(options.Encryption.Keys, options.Encryption.ActiveKeyId), sp.GetRequiredService<StagingArea>().Directory));
        services.AddSingleton(sp => new BlobMetadataCache(sp.GetRequiredService<ITwoLevelCache>()));
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
            options.Gc.GracePeriod));
        services.AddSingleton(sp => new UploadSessions(
            sp.GetRequiredService<BlobStore>(), sp.GetRequiredService<IBlobIndex>(), sp.GetRequiredService<TimeProvider>(), Path.Combine(data, "uploads")));
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

        if (options.Gc.GracePeriod < TimeSpan.Zero || options.Gc.Interval <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("Blob:Gc:GracePeriod must not be negative and Blob:Gc:Interval must be positive.");
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
