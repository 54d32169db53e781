using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microservices.Clients;
using Microservices.Hosting;
using Microservices.Registry.Extensions;
using Microservices.Registry.Grpc;
using Microservices.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Microservices.Registry.Tests.Grpc;

/// <summary>
/// The registry host exactly as Program.cs builds it (AddServiceDefaults, AddRegistryServices,
/// MapGrpcService, MapServiceDefaults), in-process on a free port, with settings as in-memory
/// configuration, and the generated client over the channel every caller uses (GrpcChannels).
/// </summary>
internal sealed class RegistryHost : IAsyncDisposable
{
    private RegistryHost(WebApplication app, int port)
    {
        App = app;
        Port = port;
        Channel = GrpcChannels.Create(Address);
        Client = ClientOver(Channel);
    }

    /// <summary>The generated client over <paramref name="channel"/>, each call with a token for the owner it names.</summary>
    public static ModelRegistryClient ClientOver(GrpcChannel channel) => new(channel.Intercept(new OwnerTokenInterceptor()));

    public WebApplication App { get; }

    public int Port { get; }

    public string Address => $"http://127.0.0.1:{Port}";

    public GrpcChannel Channel { get; }

    public ModelRegistryClient Client { get; }

    public T Service<T>()
        where T : notnull => App.Services.GetRequiredService<T>();

    public static WebApplication Build(
        string databasePath, int port, IReadOnlyDictionary<string, string?>? settings = null, Action<ServiceDefaultsOptions>? defaults = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        var all = TestTokens.Settings();
        all["Registry:Store:Sqlite:Path"] = databasePath;
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(all);
        builder.AddServiceDefaults("registry", port, defaults);
        builder.AddRegistryServices();
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapGrpcService<ModelRegistryService>();
        app.MapServiceDefaults();
        return app;
    }

    public static async Task<RegistryHost> StartAsync(
        string databasePath, IReadOnlyDictionary<string, string?>? settings = null, Action<ServiceDefaultsOptions>? defaults = null)
    {
        var port = FreePort.Next();
        var app = Build(databasePath, port, settings, defaults);
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new RegistryHost(app, port);
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
