using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microservices.TestSupport;

namespace Microservices.Redis.Tests;

/// <summary>TLS against redis-server's own TLS listener, with a throwaway self-signed certificate.</summary>
public sealed class TlsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("redis-tls-").FullName;
    private readonly X509Certificate2 _certificate;

    public TlsTests()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(Path.Combine(_directory, "cert.pem"), _certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_directory, "key.pem"), key.ExportPkcs8PrivateKeyPem());
    }

    [Fact]
    public async Task Connects_over_tls_and_rejects_an_untrusted_certificate()
    {
        var port = FreePort.Next();
        await using var server = await StartTlsServerAsync(port);

        var options = RedisOptions.Parse($"127.0.0.1:{port},ssl=true,sslHost=localhost,password=tlspw");
        options.CertificateValidation = (_, certificate, _, _) => certificate is not null && certificate.GetCertHashString() == _certificate.GetCertHashString();
        await using var client = await RedisClientFactory.ConnectAsync(options);
        await client.SetAsync("tls:k", "over tls"u8.ToArray());
        Assert.Equal("over tls"u8.ToArray(), await client.GetAsync("tls:k"));

        // Platform validation does not trust a self-signed certificate: connecting must fail, not downgrade.
        await Assert.ThrowsAsync<RedisConnectionException>(() => RedisClientFactory.ConnectAsync($"127.0.0.1:{port},ssl=true,sslHost=localhost,password=tlspw,connectTimeout=2000"));
    }

    public void Dispose()
    {
        _certificate.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task<ExternalProcess> StartTlsServerAsync(int port)
    {
        var executable = Prerequisite.Executable("redis-server", "apt-get install -y redis-server");
        var process = ExternalProcess.Start(executable, [
            "--port", "0", "--tls-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--tls-cert-file", Path.Combine(_directory, "cert.pem"), "--tls-key-file", Path.Combine(_directory, "key.pem"),
            "--tls-ca-cert-file", Path.Combine(_directory, "cert.pem"), "--tls-auth-clients", "no",
            "--requirepass", "tlspw", "--save", "", "--appendonly", "no"]);
        await process.WaitForPortAsync(port, TimeSpan.FromSeconds(10));
        return process;
    }
}
