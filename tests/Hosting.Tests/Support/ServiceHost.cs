using Microservices.Hosting.Tests.Interop;
using Microservices.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace Microservices.Hosting.Tests.Support;

/// <summary>
/// A host shaped like a real service's Program.cs (AddServiceDefaults, its own services,
/// MapGrpcService, MapServiceDefaults) serving the interop TestService on a free port. Settings go in
/// as configuration, never as environment variables, so parallel tests cannot see each other's OTEL_*.
/// </summary>
internal sealed class ServiceHost : IAsyncDisposable
{
    public const string TestServiceName = "microservices.testing.v1.TestService";

    private Task? _stopping;

    private ServiceHost(WebApplication app, int port)
    {
        App = app;
        Port = port;
    }

    public WebApplication App { get; }

    public int Port { get; }

    public string Address => $"http://127.0.0.1:{Port}";

    public IServiceProvider Services => App.Services;

    public static WebApplication Build(
        string serviceName,
        int defaultPort,
        IReadOnlyDictionary<string, string?>? settings = null,
        Action<ServiceDefaultsOptions>? configure = null,
        Action<WebApplicationBuilder>? services = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?>());
        builder.AddServiceDefaults(serviceName, defaultPort, configure);
        services?.Invoke(builder);
        var app = builder.Build();
        app.MapGrpcService<InteropTestService>();
        app.MapServiceDefaults();
        return app;
    }

    public static async Task<ServiceHost> StartAsync(
        string serviceName,
        IReadOnlyDictionary<string, string?>? settings = null,
        Action<ServiceDefaultsOptions>? configure = null,
        Action<WebApplicationBuilder>? services = null)
    {
        var port = FreePort.Next();
        var app = Build(serviceName, port, settings, configure, services);
        await app.StartAsync();
        return new ServiceHost(app, port);
    }

    /// <summary>Begins shutdown (health turns NOT_SERVING) and returns the stop, which waits for open calls.</summary>
    public Task StopAsync() => _stopping ??= App.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await App.DisposeAsync();
    }
}
