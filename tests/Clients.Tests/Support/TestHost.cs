using System.Net;
using System.Net.Sockets;
using Microservices.Hosting;
using Microservices.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Microservices.Clients.Tests.Support;

/// <summary>
/// A real host shaped like a service's Program.cs (AddServiceDefaults, MapGrpcService,
/// MapServiceDefaults) serving the test contract on one address and a free port.
/// </summary>
internal sealed class TestHost : IAsyncDisposable
{
    private TestHost(WebApplication app, IPAddress address, int port, ServerLog log)
    {
        App = app;
        Address = address;
        Port = port;
        Log = log;
    }

    public WebApplication App { get; }

    public IPAddress Address { get; }

    public int Port { get; }

    public ServerLog Log { get; }

    public string Url => $"http://{UrlHost(Address)}:{Port}";

    public static Task<TestHost> StartAsync(IPAddress? address = null, int? port = null) =>
        StartAsync<RecordingService>(address, port);

    /// <param name="services">Registrations of the host's own (e.g. the clients a relay calls).</param>
    public static async Task<TestHost> StartAsync<TService>(
        IPAddress? address = null,
        int? port = null,
        IReadOnlyDictionary<string, string?>? settings = null,
        Action<IServiceCollection, IConfiguration>? services = null)
        where TService : Testing.V1.TestService.TestServiceBase
    {
        address ??= IPAddress.Loopback;
        var chosenPort = port ?? FreePort.Next();
        var log = new ServerLog();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?>());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:grpc:Url"] = $"http://{UrlHost(address)}:{chosenPort}",
        });
        builder.AddServiceDefaults("clients-test", chosenPort);
        builder.Services.AddSingleton(log);
        services?.Invoke(builder.Services, builder.Configuration);
        var app = builder.Build();
        app.MapGrpcService<TService>();
        app.MapServiceDefaults();
        await app.StartAsync();
        return new TestHost(app, address, chosenPort, log);
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }

    private static string UrlHost(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
}
