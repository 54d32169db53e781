using Microservices.Registry.Changes;
using Microservices.Registry.Repositories;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Microservices.Registry.Extensions;

/// <summary>The registry's wiring, in one place (as eShop's Basket.API does).</summary>
internal static class Extensions
{
    public static IServiceCollection AddRegistry(this IServiceCollection services, IConfiguration configuration)
    {
        var options = new RegistryStoreOptions();
        configuration.GetSection(RegistryStoreOptions.Section).Bind(options);

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton(_ => CreateStore(options));
        services.AddSingleton(_ => new ModelChangeFeed());
        services.AddSingleton(provider => new ModelRegistry(
            provider.GetRequiredService<IModelStore>(),
            provider.GetRequiredService<ModelChangeFeed>(),
            provider.GetRequiredService<TimeProvider>()));

        // Checks and migrates the database before the host serves anything; a failure stops the host.
        services.AddHostedService<StoreInitializer>();
        return services;
    }

    public static IModelStore CreateStore(RegistryStoreOptions options) => options.Kind.ToLowerInvariant() switch
    {
        "sqlite" => new SqliteModelStore(options.Sqlite),
        "postgres" or "postgresql" => new PostgresModelStore(options.Postgres),
        _ => throw new RegistryStartupException($"Registry:Store:Kind is '{options.Kind}'; expected 'sqlite' or 'postgres'."),
    };

    private sealed class StoreInitializer(IModelStore store) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => store.InitializeAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
