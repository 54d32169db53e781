using Grpc.Core;
using Grpc.Net.Client;
using Microservices.Blob.Extensions;
using Microservices.Blob.Grpc;
using Microservices.Clients;
using Microservices.Hosting;
using Microservices.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Microservices.Blob.Tests.Support;

/// <summary>
/// The blob service as Program.cs builds it, on free ports (gRPC h2c and the HTTP gateway),
/// with its data in a temp directory; plus a channel as every caller builds it (GrpcChannels).
/// </summary>
internal sealed class BlobHost : IAsyncDisposable
{
    public static readonly string MasterKey = Convert.ToBase64String(TestData.Random(32, 42));
    public static readonly string CapabilityKey = Convert.ToBase64String(TestData.Random(32, 43));
    private readonly TempDirectory _data;

    private BlobHost(WebApplication app, TempDirectory data, int port, int gatewayPort)
    {
        App = app;
        _data = data;
        Port = port;
        GatewayPort = gatewayPort;
        Channel = GrpcChannels.Create($"http://127.0.0.1:{port}");
    }

    public WebApplication App { get; }

    public int Port { get; }

    public int GatewayPort { get; }

    public string DataDirectory => _data.Path;

    public GrpcChannel Channel { get; }

    public T Service<T>() where T : notnull => App.Services.GetRequiredService<T>();

    public static async Task<BlobHost> StartAsync(Dictionary<string, string?>? settings = null, TimeProvider? time = null)
    {
        var data = new TempDirectory();
        var port = FreePort.Next();
        var gatewayPort = FreePort.Next();
        var config = new Dictionary<string, string?>
        {
            ["DataDirectory"] = data.Path,
            ["Blob:Gateway:Port"] = gatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Blob:Gateway:PublicUrl"] = $"http://127.0.0.1:{gatewayPort}",
            ["Blob:Encryption:Keys:k1"] = MasterKey,
            ["Blob:Gateway:CapabilityKey"] = CapabilityKey,
            ["Grpc:MaxReceiveMessageSize"] = (4 * 1024 * 1024 + 64 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in TestTokens.Settings())
        {
            config[key] = value;
        }

        foreach (var (key, value) in settings ?? [])
        {
            config[key] = value;
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Configuration.AddInMemoryCollection(config);
        builder.AddServiceDefaults("blob", defaultPort: port, BlobTelemetry.Configure);
        builder.AddBlobServices();
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        var app = builder.Build();
        app.MapGrpcService<BlobGrpcService>();
        app.MapServiceDefaults();
        app.MapBlobGateway();
        await app.StartAsync();
        return new BlobHost(app, data, port, gatewayPort);
    }

    /// <summary>A call as <paramref name="owner"/>: a valid bearer token whose subject is the owner.</summary>
    public static CallOptions As(string owner) => new(headers: TestTokens.As(owner), deadline: DateTime.UtcNow.AddMinutes(2));

    /// <summary>A call carrying <paramref name="token"/> (none when null).</summary>
    public static CallOptions WithToken(string? token) => new(headers: TestTokens.Bearer(token), deadline: DateTime.UtcNow.AddMinutes(2));

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        _data.Dispose();
    }
}
