using Microservices.Registry.Extensions;
using Microservices.Registry.Repositories;
using Microservices.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Microservices.Registry.Tests;

/// <summary>The service picks its store from configuration and refuses to start on a bad database.</summary>
public sealed class RegistryWiringTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Theory]
    [InlineData("sqlite", typeof(SqliteModelStore))]
    [InlineData("postgres", typeof(PostgresModelStore))]
    public async Task The_store_kind_comes_from_configuration(string kind, Type expected)
    {
        await using var provider = Build(new()
        {
            ["Registry:Store:Kind"] = kind,
            ["Registry:Store:Sqlite:Path"] = _directory.File("r.db"),
            ["Registry:Store:Postgres:ConnectionString"] = "Host=127.0.0.1;Username=nobody",
        });

        Assert.IsType(expected, provider.GetRequiredService<IModelStore>());
        Assert.NotNull(provider.GetRequiredService<ModelRegistry>());
    }

    [Fact]
    public async Task An_unknown_store_kind_is_a_startup_error()
    {
        await using var provider = Build(new() { ["Registry:Store:Kind"] = "mongodb" });
        var e = Assert.Throws<RegistryStartupException>(() => provider.GetRequiredService<IModelStore>());
        Assert.Contains("mongodb", e.Message);
    }

    [Fact]
    public async Task Startup_migrates_a_new_database_and_refuses_a_corrupt_one()
    {
        var good = _directory.File("good.db");
        await using (var provider = Build(new() { ["Registry:Store:Sqlite:Path"] = good }))
        {
            await StartAsync(provider);
            await provider.GetRequiredService<ModelRegistry>().ListAsync("alice", new Models.ModelQuery(), default);
        }

        var bad = _directory.File("bad.db");
        await File.WriteAllTextAsync(bad, "this is not a database, it is a note someone saved over it\n");
        await using (var provider = Build(new() { ["Registry:Store:Sqlite:Path"] = bad }))
        {
            var e = await Assert.ThrowsAsync<RegistryStartupException>(() => StartAsync(provider));
            Assert.Contains("refuses to start", e.Message);
        }

        Assert.Equal("this is not a database, it is a note someone saved over it\n", await File.ReadAllTextAsync(bad));
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection().AddLogging().AddRegistry(configuration).BuildServiceProvider();
    }

    private static async Task StartAsync(IServiceProvider provider)
    {
        foreach (var service in provider.GetServices<IHostedService>())
        {
            await service.StartAsync(default);
        }
    }
}
