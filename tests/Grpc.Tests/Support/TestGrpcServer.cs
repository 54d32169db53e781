using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microservices.Grpc.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Microservices.Grpc.Tests.Support;

/// <summary>A real Kestrel host on a free loopback port serving our gRPC layer, h2c or TLS.</summary>
internal sealed class TestGrpcServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestGrpcServer(WebApplication app, string address)
    {
        _app = app;
        Address = address;
    }

    public string Address { get; }

    public int Port => new Uri(Address).Port;

    public IServiceProvider Services => _app.Services;

    public static async Task<TestGrpcServer> StartAsync(
        Action<GrpcServerBuilder> configureGrpc,
        Action<IServiceCollection>? configureServices = null,
        Action<GrpcServerOptions>? configureOptions = null,
        X509Certificate2? certificate = null,
        IPAddress[]? listenAddresses = null,
        int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            foreach (var address in listenAddresses ?? [IPAddress.Loopback])
            {
                kestrel.Listen(address, port, listen =>
                {
                    listen.Protocols = HttpProtocols.Http2;
                    if (certificate is not null)
                    {
                        listen.UseHttps(certificate);
                    }
                });
            }
        });
        configureGrpc(builder.Services.AddGrpcServer(configureOptions));
        configureServices?.Invoke(builder.Services);
        var app = builder.Build();
        app.UseGrpcServices();
        await app.StartAsync();
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var boundPort = new Uri(bound.Replace("[::]", "localhost", StringComparison.Ordinal)).Port;
        var scheme = certificate is null ? "http" : "https";
        return new TestGrpcServer(app, $"{scheme}://127.0.0.1:{boundPort}");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>A self-signed certificate for "localhost" and 127.0.0.1, for the TLS endpoint tests.</summary>
    public static X509Certificate2 CreateSelfSignedCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }
}
