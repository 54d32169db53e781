using Grpc.Core;
using Microservices.Clients.Tests.Support;
using Microservices.Hosting.Clients;
using Microservices.Testing.V1;
using Microservices.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Microservices.Clients.Tests;

/// <summary>TLS settings of GrpcClientOptions against a real host that requires client certificates from the test CA.</summary>
public sealed class ClientTlsTests : IDisposable
{
    private readonly TestCertificates _pki = new();

    public void Dispose() => _pki.Dispose();

    private Task<TestHost> StartMutualTlsHostAsync() => TestHost.StartAsync<RecordingService>(settings: new Dictionary<string, string?>
    {
        ["Hosting:Tls:CertificatePath"] = _pki.ServerCertificatePath,
        ["Hosting:Tls:KeyPath"] = _pki.ServerKeyPath,
        ["Hosting:Tls:ClientCertificateMode"] = "Require",
        ["Hosting:Tls:ClientCaPath"] = _pki.CaPath,
    });

    [Fact]
    public async Task A_client_registered_with_AddServiceClient_calls_over_mutual_tls()
    {
        await using var host = await StartMutualTlsHostAsync();
        var section = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Clients:Test:Address"] = $"https://localhost:{host.Port}",
            ["Clients:Test:CaCertificatePath"] = _pki.CaPath,
            ["Clients:Test:ClientCertificatePath"] = _pki.ClientCertificatePath,
            ["Clients:Test:ClientKeyPath"] = _pki.ClientKeyPath,
        }).Build().GetSection("Clients:Test");
        var services = new ServiceCollection().AddLogging();
        services.AddServiceClient<TestService.TestServiceClient>(section);
        await using var provider = services.BuildServiceProvider();

        await provider.GetRequiredService<TestService.TestServiceClient>().EmptyCallAsync(new Empty());

        Assert.Single(host.Log.Calls);
    }

    [Fact]
    public async Task A_dns_address_with_Tls_checks_the_certificate_against_the_name_and_the_ca()
    {
        await using var host = await StartMutualTlsHostAsync();
        using var channel = GrpcChannels.Create(new GrpcClientOptions
        {
            Address = $"dns:///localhost:{host.Port}",
            Tls = true,
            CaCertificatePath = _pki.CaPath,
            ClientCertificatePath = _pki.ClientCertificatePath,
            ClientKeyPath = _pki.ClientKeyPath,
        });

        await new TestService.TestServiceClient(channel).EmptyCallAsync(new Empty(), deadline: DateTime.UtcNow.AddSeconds(30));

        Assert.Single(host.Log.Calls);
    }

    [Fact]
    public async Task Without_its_certificate_the_same_client_is_refused_before_any_call_reaches_the_service()
    {
        await using var host = await StartMutualTlsHostAsync();
        using var channel = GrpcChannels.Create(new GrpcClientOptions { Address = $"https://localhost:{host.Port}", CaCertificatePath = _pki.CaPath, MaxRetryAttempts = 1 });

        var error = await Assert.ThrowsAsync<RpcException>(() => new TestService.TestServiceClient(channel).EmptyCallAsync(new Empty()).ResponseAsync);

        // Under TLS 1.3 the client's handshake is done before the server checks its certificate:
        // the refusal arrives while connecting (UNAVAILABLE) or under the first call (INTERNAL).
        Assert.Contains(error.StatusCode, new[] { StatusCode.Unavailable, StatusCode.Internal });
        Assert.Empty(host.Log.Calls);
    }

    public static TheoryData<string, string> Misconfigurations => new()
    {
        { "plaintext", "is plaintext, but CaCertificatePath, ClientCertificatePath or ClientKeyPath is set" },
        { "key only", "ClientKeyPath is set without ClientCertificatePath" },
        { "missing ca", "CaCertificatePath: the file '" },
        { "missing key", "ClientKeyPath: the file '" },
        { "not a certificate", "CaCertificatePath: '" },
    };

    [Theory]
    [MemberData(nameof(Misconfigurations))]
    public void A_tls_misconfiguration_fails_when_the_channel_is_built_naming_the_setting(string mistake, string message)
    {
        var options = new GrpcClientOptions { Address = "https://localhost:1", CaCertificatePath = _pki.CaPath };
        switch (mistake)
        {
            case "plaintext":
                options.Address = "http://localhost:1";
                break;
            case "key only":
                options.ClientKeyPath = _pki.ClientKeyPath;
                break;
            case "missing ca":
                options.CaCertificatePath = Path.Combine(_pki.Directory, "missing.pem");
                break;
            case "missing key":
                options.ClientCertificatePath = _pki.ClientCertificatePath;
                options.ClientKeyPath = Path.Combine(_pki.Directory, "missing.key");
                break;
            case "not a certificate":
                options.CaCertificatePath = _pki.ClientKeyPath;
                break;
        }

        var error = Assert.Throws<InvalidOperationException>(() => GrpcChannels.Create(options));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
