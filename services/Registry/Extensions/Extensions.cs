using Microservices.Caching;
using Microservices.Registry.Caching;
using Microservices.Registry.Changes;
using Microservices.Registry.Repositories;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using OpenTelemetry.Trace;

using Microservices.Caching.RateLimiting;
using Microservices.Hosting.Security;

namespace Microservices.Registry.Extensions;

/// <summary>The registry's wiring, in one place (as eShop's Basket.API does).</summary>
internal static class Extensions
{
    /// <summary>Configuration key of the directory the service keeps its data in (./dev up sets it).</summary>
    public const string DataDirectoryKey = "DataDirectory";

    /// <summary>Program.cs: the domain, the store, the cache, and spans of the PostgreSQL commands (Npgsql's "Npgsql" source).</summary>
    public static WebApplicationBuilder AddRegistryServices(this WebApplicationBuilder builder)
    {
        builder.AddOwnerAuthentication();
        builder.Services.AddOwnerRateLimits(builder.Configuration);
        builder.Services.AddRegistry(builder.Configuration);
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddNpgsql());
        return builder;
    }

    public static IServiceCollection AddRegistry(this IServiceCollection services, IConfiguration configuration)
    {
        var options = new RegistryStoreOptions();
        configuration.GetSection(RegistryStoreOptions.Section).Bind(options);
        ApplyDataDirectory(options, configuration[DataDirectoryKey]);
        var backups = new RegistryBackupOptions();
        configuration.GetSection(RegistryBackupOptions.Section).Bind(backups);
        var backupDirectory = backups.Resolve(options.Sqlite.Path, configuration[DataDirectoryKey]);

        var cacheOptions = new RegistryCacheOptions();
        configuration.GetSection(RegistryCacheOptions.Section).Bind(cacheOptions);
        var cached = UseCache(cacheOptions, options, configuration);

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton(cacheOptions);
        var maxModelsPerOwner = configuration.GetValue(SqlModelStore.MaxModelsPerOwnerKey, SqlModelStore.DefaultMaxModelsPerOwner);
        services.AddSingleton(_ => CreateStore(options, backupDirectory, maxModelsPerOwner));
        var maxWatchesPerOwner = configuration.GetValue(ModelChangeFeed.MaxWatchesPerOwnerKey, ModelChangeFeed.DefaultMaxWatchesPerOwner);
        var maxWatchBufferBytes = configuration.GetValue(ModelChangeFeed.MaxWatchBufferBytesKey, ModelChangeFeed.DefaultMaxWatchBufferBytes);
        services.AddSingleton(_ => new ModelChangeFeed(maxWatchesPerOwner: maxWatchesPerOwner, maxBufferBytes: maxWatchBufferBytes));
        services.AddTwoLevelCache(configuration, servicePrefix: "registry");
        services.AddSingleton(provider =>
        {
            var store = WithTracing(provider.GetRequiredService<IModelStore>());
            return new ModelRegistry(
                cached ? new CachingModelStore(store, provider.GetRequiredService<ITwoLevelCache>(), cacheOptions) : store,
                provider.GetRequiredService<ModelChangeFeed>(),
                provider.GetRequiredService<TimeProvider>());
        });

        // Checks and migrates the database before the host serves anything; a failure stops the host.
        services.AddHostedService<StoreInitializer>();
        if (options.Kind.Equals("postgres", StringComparison.OrdinalIgnoreCase) || options.Kind.Equals("postgresql", StringComparison.OrdinalIgnoreCase))
        {
            // Several replicas share the database: Watch on any of them sees every replica's writes.
            services.AddHostedService(provider => new PostgresChangeRelay(
                options.Postgres.ConnectionString!,
                provider.GetRequiredService<ModelChangeFeed>(),
                provider.GetRequiredService<IModelStore>(),
                provider.GetRequiredService<ILogger<PostgresChangeRelay>>()));
        }

        return services;
    }

    public static IModelStore CreateStore(RegistryStoreOptions options, string? backupDirectory = null, long maxModelsPerOwner = SqlModelStore.DefaultMaxModelsPerOwner) => options.Kind.ToLowerInvariant() switch
    {
        "sqlite" => new SqliteModelStore(options.Sqlite, backupDirectory: backupDirectory) { MaxModelsPerOwner = maxModelsPerOwner },
        "postgres" or "postgresql" => new PostgresModelStore(options.Postgres) { MaxModelsPerOwner = maxModelsPerOwner },
        _ => throw new RegistryStartupException($"Registry:Store:Kind is '{options.Kind}'; expected 'sqlite' or 'postgres'."),
    };

    // SQLite has no instrumentation of its own; Npgsql traces every PostgreSQL command itself.
    private static IModelStore WithTracing(IModelStore store) => store is SqliteModelStore sqlite
        ? new TracedModelStore(sqlite, "sqlite", Path.GetFileName(sqlite.DatabasePath))
        : store;

    /// <summary>
    /// Whether Get and alias resolution go through the cache. Without Redis no instance hears of
    /// another's writes, so the cache is only safe where one instance owns the data (see
    /// <see cref="RegistryCacheOptions.Mode"/>).
    /// </summary>
    internal static bool UseCache(RegistryCacheOptions cache, RegistryStoreOptions store, IConfiguration configuration) =>
        cache.Mode.ToLowerInvariant() switch
        {
            "on" => true,
            "off" => false,
            "auto" => !string.IsNullOrWhiteSpace(configuration["Redis:ConnectionString"]) || store.Kind.Equals("sqlite", StringComparison.OrdinalIgnoreCase),
            _ => throw new RegistryStartupException($"Registry:Cache:Mode is '{cache.Mode}'; expected 'auto', 'on' or 'off'."),
        };

    // Relative SQLite paths live under DataDirectory when it is set (./dev up, the Helm chart's volume).
    private static void ApplyDataDirectory(RegistryStoreOptions options, string? dataDirectory)
    {
        if (string.IsNullOrWhiteSpace(dataDirectory))
        {
            return;
        }

        if (!Path.IsPathRooted(options.Sqlite.Path))
        {
            options.Sqlite.Path = Path.Combine(dataDirectory, options.Sqlite.Path);
        }

        if (options.Sqlite.BackupDirectory is { } backups && !Path.IsPathRooted(backups))
        {
            options.Sqlite.BackupDirectory = Path.Combine(dataDirectory, backups);
        }
    }

    private sealed class StoreInitializer(IModelStore store) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => store.InitializeAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
