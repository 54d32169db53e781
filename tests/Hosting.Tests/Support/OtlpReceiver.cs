using System.Collections.Concurrent;
using Microservices.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Microservices.Hosting.Tests.Support;

/// <summary>
/// The smallest OTLP/HTTP collector: records the protobuf bodies POSTed to /v1/traces and
/// /v1/metrics and answers 200 with an empty Export*ServiceResponse (an empty protobuf message).
/// </summary>
internal sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpReceiver(WebApplication app, int port)
    {
        _app = app;
        Endpoint = $"http://127.0.0.1:{port}";
    }

    public string Endpoint { get; }

    public ConcurrentQueue<(string Path, string? ContentType, byte[] Body)> Requests { get; } = new();

    public IEnumerable<byte[]> Bodies(string path) => Requests.Where(r => r.Path == path).Select(r => r.Body);

    public static async Task<OtlpReceiver> StartAsync()
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http1AndHttp2));
        var app = builder.Build();
        var receiver = new OtlpReceiver(app, port);
        app.Run(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            receiver.Requests.Enqueue((context.Request.Path.Value ?? "", context.Request.ContentType, body.ToArray()));
            context.Response.ContentType = "application/x-protobuf";
            context.Response.StatusCode = StatusCodes.Status200OK;
        });
        await app.StartAsync();
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
