using System.Globalization;
using System.Net;
using Grpc.Core;
using Microservices.Clients;
using Microservices.Hosting.Tests.Support;
using Microservices.Testing.V1;
using Microservices.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Microservices.Hosting.Tests.Transport;

/// <summary>Hosting:Tls on real hosts: who gets through, over which endpoint, and which hosts refuse to start.</summary>
public sealed class TlsTransportTests : IDisposable
{
    private readonly TestCertificates _pki = new();

    public void Dispose() => _pki.Dispose();

    private Dictionary<string, string?> Tls(bool mutual = false)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Hosting:Tls:CertificatePath"] = _pki.ServerCertificatePath,
            ["Hosting:Tls:KeyPath"] = _pki.ServerKeyPath,
        };
        if (mutual)
        {
            settings["Hosting:Tls:ClientCertificateMode"] = "Require";
            settings["Hosting:Tls:ClientCaPath"] = _pki.CaPath;
        }

        return settings;
    }

    private static async Task<int> UnaryAsync(GrpcClientOptions options)
    {
        using var channel = GrpcChannels.Create(options);
        var response = await new TestService.TestServiceClient(channel).UnaryCallAsync(new SimpleRequest { ResponseSize = 7 });
        return response.Payload.Body.Length;
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("127.0.0.1")]
    public async Task A_tls_host_serves_our_client_trusting_only_the_configured_ca(string name)
    {
        await using var host = await ServiceHost.StartAsync("tls-test", Tls());

        Assert.Equal(7, await UnaryAsync(new GrpcClientOptions { Address = $"https://{name}:{host.Port}", CaCertificatePath = _pki.CaPath }));
    }

    [Fact]
    public async Task A_tls_host_serves_grpcio_with_ssl_channel_credentials()
    {
        await using var host = await ServiceHost.StartAsync("tls-test", Tls());

        foreach (var testCase in new[] { "large_unary", "ping_pong" })
        {
            var (exitCode, output) = await Python.RunScriptAsync("interop_client.py", "--server_host", "127.0.0.1",
                "--server_port", host.Port.ToString(CultureInfo.InvariantCulture), "--use_tls", "--ca_file", _pki.CaPath,
                "--server_host_override", "localhost", "--test_case", testCase);
            Assert.True(exitCode == 0, $"grpcio over TLS failed {testCase}:\n{output}");
            Assert.Contains("PASS " + testCase, output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Our_client_refuses_a_server_whose_certificate_another_ca_issued()
    {
        await using var host = await ServiceHost.StartAsync("tls-test", Tls());

        var error = await Assert.ThrowsAsync<RpcException>(() => UnaryAsync(new GrpcClientOptions { Address = $"https://localhost:{host.Port}", CaCertificatePath = _pki.OtherCaPath }));
        // grpc-dotnet reports a failed certificate check as INTERNAL (it is not worth retrying), naming the handshake.
        Assert.Equal(StatusCode.Internal, error.StatusCode);
        Assert.Contains("The SSL connection could not be established", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mutual_tls_serves_a_client_whose_certificate_the_client_ca_issued()
    {
        await using var host = await ServiceHost.StartAsync("tls-test", Tls(mutual: true));

        Assert.Equal(7, await UnaryAsync(new GrpcClientOptions
        {
            Address = $"https://localhost:{host.Port}",
            CaCertificatePath = _pki.CaPath,
            ClientCertificatePath = _pki.ClientCertificatePath,
            ClientKeyPath = _pki.ClientKeyPath,
        }));
    }

    [Fact]
    public async Task Mutual_tls_serves_grpcio_with_a_client_certificate_and_refuses_it_without_one()
    {
        await using var host = await ServiceHost.StartAsync("tls-test", Tls(mutual: true));
        string[] tls = ["--server_host", "127.0.0.1", "--server_port", host.Port.ToString(CultureInfo.InvariantCulture), "--use_tls", "--ca_file", _pki.CaPath, "--server_host_override", "localhost", "--test_case", "large_unary"];

        var (exitCode, output) = await Python.RunScriptAsync("interop_client.py", [.. tls, "--client_cert", _pki.ClientCertificatePath, "--client_key", _pki.ClientKeyPath]);
        Assert.True(exitCode == 0, $"grpcio with a client certificate failed:\n{output}");
        Assert.Contains("PASS large_unary", output, StringComparison.Ordinal);

        (exitCode, output) = await Python.RunScriptAsync("interop_client.py", tls);
        Assert.True(exitCode != 0, $"grpcio without a client certificate was served:\n{output}");
        Assert.DoesNotContain("PASS large_unary", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Mutual_tls_refuses_a_client_without_a_certificate_or_with_one_from_another_ca(bool otherCa)
    {
        await using var host = await ServiceHost.StartAsync("tls-test", Tls(mutual: true));
        var options = new GrpcClientOptions { Address = $"https://localhost:{host.Port}", CaCertificatePath = _pki.CaPath };
        if (otherCa)
        {
            options.ClientCertificatePath = _pki.OtherClientCertificatePath;
            options.ClientKeyPath = _pki.OtherClientKeyPath;
        }

        // TLS 1.3 finishes the client's side of the handshake before the server checks the client's
        // certificate, so the refusal reaches the client either while connecting (UNAVAILABLE) or as
        // the connection's reset under the first call (INTERNAL); either way no response came.
        var error = await Assert.ThrowsAsync<RpcException>(() => UnaryAsync(options));
        Assert.Contains(error.StatusCode, new[] { StatusCode.Unavailable, StatusCode.Internal });
    }

    [Fact]
    public async Task An_endpoint_a_service_adds_in_code_gets_the_same_tls()
    {
        // The blob gateway's shape: its own HTTP/1.1 endpoint added with ConfigureKestrel.
        var gatewayPort = FreePort.Next();
        await using var host = await ServiceHost.StartAsync("tls-test", Tls(), services: builder =>
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, gatewayPort, listen => listen.Protocols = HttpProtocols.Http1)));

        using var http = new HttpClient(GrpcChannels.CreateHandler(new GrpcClientOptions { Address = $"https://localhost:{gatewayPort}", CaCertificatePath = _pki.CaPath }));
        using var response = await http.GetAsync(new Uri($"https://localhost:{gatewayPort}/no-such-path"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(new Version(1, 1), response.Version);
        await Assert.ThrowsAsync<HttpRequestException>(() => new HttpClient().GetAsync(new Uri($"http://localhost:{gatewayPort}/no-such-path")));
    }

    public static TheoryData<string> PublicPlaintextEndpoints => ["Kestrel:Endpoints:Public:Url", "urls", "code"];

    [Theory]
    [MemberData(nameof(PublicPlaintextEndpoints))]
    public async Task A_host_refuses_to_start_in_plaintext_on_a_non_loopback_address(string source)
    {
        var port = FreePort.Next();
        await using var app = PublicHost(source, port, new Dictionary<string, string?>());

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync());
        Assert.StartsWith("Refusing to listen in plaintext on http://", error.Message, StringComparison.Ordinal);
        Assert.Contains($":{port}: not a loopback address.", error.Message, StringComparison.Ordinal);
        Assert.Contains("Hosting:Tls:CertificatePath", error.Message, StringComparison.Ordinal);
        Assert.Contains("Hosting:AllowPlaintext=true", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(PublicPlaintextEndpoints))]
    public async Task AllowPlaintext_lets_the_host_serve_plaintext_on_every_address(string source)
    {
        var port = FreePort.Next();
        await using var app = PublicHost(source, port, new Dictionary<string, string?> { ["Hosting:AllowPlaintext"] = "true" });
        await app.StartAsync();

        Assert.Equal(7, await UnaryAsync(new GrpcClientOptions { Address = $"http://127.0.0.1:{port}" }));
        await app.StopAsync();
    }

    [Fact]
    public async Task With_tls_a_host_listens_on_every_address_without_AllowPlaintext()
    {
        var port = FreePort.Next();
        await using var app = PublicHost("Kestrel:Endpoints:Public:Url", port, Tls());
        await app.StartAsync();

        Assert.Equal(7, await UnaryAsync(new GrpcClientOptions { Address = $"https://localhost:{port}", CaCertificatePath = _pki.CaPath }));
        await app.StopAsync();
    }

    [Fact]
    public async Task The_health_port_serves_plaintext_health_on_every_address_and_nothing_else_beside_a_tls_port()
    {
        // What a Kubernetes gRPC probe needs: plaintext health on the pod's address while the service port is TLS.
        var healthPort = FreePort.Next();
        var settings = Tls();
        settings["Hosting:HealthPort"] = healthPort.ToString(CultureInfo.InvariantCulture);
        await using var host = await ServiceHost.StartAsync("tls-test", settings);

        var (exitCode, output) = await Python.RunScriptAsync("health_client.py", "--server_host", "127.0.0.1", "--server_port", healthPort.ToString(CultureInfo.InvariantCulture), "check", "", ServiceHost.TestServiceName);
        Assert.True(exitCode == 0, output);
        Assert.Contains("check : SERVING\n", output, StringComparison.Ordinal);
        Assert.Contains($"check {ServiceHost.TestServiceName}: SERVING\n", output, StringComparison.Ordinal);

        var refused = await Assert.ThrowsAsync<RpcException>(() => UnaryAsync(new GrpcClientOptions { Address = $"http://127.0.0.1:{healthPort}" }));
        Assert.Equal(StatusCode.Unimplemented, refused.StatusCode);
        Assert.Equal($"port {healthPort} (Hosting:HealthPort) serves only grpc.health.v1.Health", refused.Status.Detail);

        // The service port still takes TLS only.
        Assert.Equal(7, await UnaryAsync(new GrpcClientOptions { Address = $"https://localhost:{host.Port}", CaCertificatePath = _pki.CaPath }));
        await Assert.ThrowsAsync<RpcException>(() => UnaryAsync(new GrpcClientOptions { Address = $"http://127.0.0.1:{host.Port}" }));
    }

    public static TheoryData<string, string?, string> Misconfigurations => new()
    {
        { "Hosting:Tls:ClientCertificateMode", "Require", "Hosting:Tls:ClientCertificateMode is Require but Hosting:Tls:ClientCaPath is not set" },
        { "Hosting:Tls:ClientCaPath", "ca.pem", "Hosting:Tls:ClientCaPath is set but Hosting:Tls:ClientCertificateMode is None" },
        { "Hosting:Tls:CertificatePath", "missing.pem", "Hosting:Tls:CertificatePath: the file '" },
        { "Hosting:Tls:KeyPath", "missing.key", "Hosting:Tls:KeyPath: the file '" },
        { "Hosting:Tls:CertificatePath", null, "Hosting:Tls:KeyPath, ClientCaPath or ClientCertificateMode is set but Hosting:Tls:CertificatePath is not" },
    };

    [Theory]
    [MemberData(nameof(Misconfigurations))]
    public async Task A_tls_misconfiguration_stops_the_host_naming_the_setting(string key, string? file, string message)
    {
        var settings = Tls();
        settings[key] = file is null ? null : key == "Hosting:Tls:ClientCertificateMode" ? file : Path.Combine(_pki.Directory, file);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var host = await ServiceHost.StartAsync("tls-test", settings);
        });
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    /// <summary>A host whose one endpoint is every address (0.0.0.0), said in configuration, as a URL or in code.</summary>
    private static WebApplication PublicHost(string source, int port, Dictionary<string, string?> settings)
    {
        Action<WebApplicationBuilder>? services = null;
        switch (source)
        {
            case "code":
                services = builder => builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenAnyIP(port));
                break;
            default:
                settings[source] = $"http://0.0.0.0:{port}";
                break;
        }

        // In code, the endpoint comes on top of the loopback default, which then needs a port of its own.
        return ServiceHost.Build("tls-test", source == "code" ? FreePort.Next() : port, settings, services: services);
    }
}
