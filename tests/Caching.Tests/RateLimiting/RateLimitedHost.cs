using Grpc.Core;
using Grpc.Net.Client;
using Microservices.Hosting;
using Microservices.Hosting.Security;
using Microservices.Testing.V1;
using Microservices.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace Microservices.Caching.Tests.RateLimiting;

/// <summary>A host shaped like a service (defaults, owner authentication, the one-line rate limits) serving the interop TestService's EmptyCall.</summary>
internal sealed class RateLimitedHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly GrpcChannel _channel;

    private RateLimitedHost(WebApplication app, int port)
    {
        _app = app;
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
        Client = new TestService.TestServiceClient(_channel);
    }

    public TestService.TestServiceClient Client { get; }

    /// <summary>Settings limiting EmptyCall (UnaryCall stays unlimited), pointed at <paramref name="redis"/>.</summary>
    public static Dictionary<string, string?> Limit(RedisServer redis, int permits, string period, int? burst = null)
    {
        var settings = TestTokens.Settings();
        foreach (var (key, value) in redis.Settings)
        {
            settings[key] = value;
        }

        settings["RateLimits:Methods:TestService.EmptyCall:PermitsPerPeriod"] = permits.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["RateLimits:Methods:TestService.EmptyCall:Period"] = period;
        if (burst is { } b)
        {
            settings["RateLimits:Methods:TestService.EmptyCall:Burst"] = b.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return settings;
    }

    public static async Task<RateLimitedHost> StartAsync(IReadOnlyDictionary<string, string?> settings, Action<WebApplicationBuilder>? configure = null)
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddServiceDefaults("rate-limit-test", port);
        builder.AddOwnerAuthentication();
        builder.Services.AddOwnerRateLimits(builder.Configuration);
        configure?.Invoke(builder);
        var app = builder.Build();
        app.MapGrpcService<EmptyTestService>();
        app.MapServiceDefaults();
        await app.StartAsync();
        return new RateLimitedHost(app, port);
    }

    /// <summary>EmptyCall as <paramref name="owner"/>: null when it went through, else the refusal.</summary>
    public Task<RpcException?> CallAsync(string owner) => CallWithAsync(TestTokens.For(owner));

    /// <summary>EmptyCall with <paramref name="token"/>: null when it went through, else the refusal.</summary>
    public async Task<RpcException?> CallWithAsync(string token)
    {
        try
        {
            await Client.EmptyCallAsync(new Empty(), TestTokens.Bearer(token));
            return null;
        }
        catch (RpcException error)
        {
            return error;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class EmptyTestService : TestService.TestServiceBase
    {
        public override Task<Empty> EmptyCall(Empty request, ServerCallContext context) => Task.FromResult(new Empty());

        public override Task<SimpleResponse> UnaryCall(SimpleRequest request, ServerCallContext context) => Task.FromResult(new SimpleResponse());
    }
}
