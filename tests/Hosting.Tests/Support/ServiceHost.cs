using Microservices.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace Microservices.Hosting.Tests.Support;

/// <summary>
/// A host shaped like a real service's Program.cs (AddServiceDefaults, MapServiceDefaults) on a
/// free port. Settings go in as configuration, never as environment variables, so parallel tests
/// cannot see each other's OTEL_* values.
/// </summary>
internal sealed class ServiceHost : IAsyncDisposable
{
    private bool _stopped;

    private ServiceHost(WebApplication app, int port)
    {
        App = app;
        Port = port;
    }

    public WebApplication App { get; }

    public int Port { get; }

    public string Address => $"http://127.0.0.1:{Port}";

    public static WebApplication Build(
        string serviceName,
        int defaultPort,
        IReadOnlyDictionary<string, string?>? settings = null,
        Action<ServiceDefaultsOptions>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?>());
        builder.AddServiceDefaults(serviceName, defaultPort, configure);
        var app = builder.Build();
        app.MapServiceDefaults();
        return app;
    }

    public static async Task<ServiceHost> StartAsync(
        string serviceName,
        IReadOnlyDictionary<string, string?>? settings = null,
        Action<ServiceDefaultsOptions>? configure = null)
    {
        var port = FreePort.Next();
        var app = Build(serviceName, port, settings, configure);
        await app.StartAsync();
        return new ServiceHost(app, port);
    }

    public async Task StopAsync()
    {
        _stopped = true;
        await App.StopAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopped)
        {
            await App.StopAsync();
        }

        await App.DisposeAsync();
    }
}
