using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Microservices.TestSupport;

/// <summary>
/// A private PKI made for one test, written as PEM files the way an operator mounts them: a CA, a
/// server certificate for localhost and 127.0.0.1 and a client certificate it issued, and a second
/// CA with a client certificate of its own (one the first CA must not accept).
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    private readonly TempDirectory _directory = new();

    public TestCertificates()
    {
        using var ca = Authority("CN=Microservices Test CA");
        CaPath = WriteCertificate("ca.pem", ca);
        (ServerCertificatePath, ServerKeyPath) = WriteIssued("server", ca, "CN=localhost", ServerAuthentication, withAddresses: true);
        (ClientCertificatePath, ClientKeyPath) = WriteIssued("client", ca, "CN=export", ClientAuthentication, withAddresses: false);

        using var other = Authority("CN=Some Other CA");
        OtherCaPath = WriteCertificate("other-ca.pem", other);
        (OtherClientCertificatePath, OtherClientKeyPath) = WriteIssued("other-client", other, "CN=export", ClientAuthentication, withAddresses: false);
    }

    public string Directory => _directory.Path;

    public string CaPath { get; }

    public string ServerCertificatePath { get; }

    public string ServerKeyPath { get; }

    public string ClientCertificatePath { get; }

    public string ClientKeyPath { get; }

    public string OtherCaPath { get; }

    /// <summary>Issued by <see cref="OtherCaPath"/>, with the same subject as the right client's.</summary>
    public string OtherClientCertificatePath { get; }

    public string OtherClientKeyPath { get; }

    public void Dispose() => _directory.Dispose();

    private static X509Certificate2 Authority(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    private (string Certificate, string Key) WriteIssued(string name, X509Certificate2 issuer, string subject, Oid usage, bool withAddresses)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([usage], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        if (withAddresses)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName("localhost");
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
        }

        using var certificate = request.Create(issuer, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7), RandomNumberGenerator.GetBytes(16));
        var keyPath = _directory.File(name + ".key");
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (WriteCertificate(name + ".pem", certificate), keyPath);
    }

    private string WriteCertificate(string name, X509Certificate2 certificate)
    {
        var path = _directory.File(name);
        File.WriteAllText(path, certificate.ExportCertificatePem());
        return path;
    }
}
