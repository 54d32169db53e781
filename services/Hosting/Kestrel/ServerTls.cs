using System.Security.Cryptography.X509Certificates;
using Microservices.Clients.Tls;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Microservices.Hosting.Kestrel;

/// <summary>
/// Turns "Hosting:Tls" into Kestrel's HTTPS options: the certificate is read once at start-up (a
/// missing or malformed file stops the host, naming the setting), and with mutual TLS a client
/// certificate is accepted only if it chains to the configured client CA.
/// </summary>
internal sealed class ServerTls
{
    private const string Section = HostingSettings.SectionName + ":Tls:";

    private readonly X509Certificate2 _certificate;
    private readonly X509Certificate2Collection _chain;
    private readonly PrivateTrust? _clients;

    private ServerTls(X509Certificate2 certificate, X509Certificate2Collection chain, PrivateTrust? clients)
    {
        _certificate = certificate;
        _chain = chain;
        _clients = clients;
    }

    /// <summary>The host's TLS, or null when no certificate is configured.</summary>
    public static ServerTls? From(TlsSettings settings)
    {
        var mutual = settings.ClientCertificateMode == ClientCertificateRequirement.Require;
        if (!settings.Enabled)
        {
            return settings.KeyPath is null && settings.ClientCaPath is null && !mutual
                ? null
                : throw new InvalidOperationException(
                    $"{Section}KeyPath, ClientCaPath or ClientCertificateMode is set but {Section}CertificatePath is not; TLS needs the server certificate.");
        }

        if (mutual != settings.ClientCaPath is not null)
        {
            throw new InvalidOperationException(mutual
                ? $"{Section}ClientCertificateMode is Require but {Section}ClientCaPath is not set: name the CA that issues client certificates."
                : $"{Section}ClientCaPath is set but {Section}ClientCertificateMode is None: set it to Require for mutual TLS, or remove ClientCaPath.");
        }

        var certificate = PemFiles.CertificateWithKey(Section + "CertificatePath", settings.CertificatePath!, Section + "KeyPath", settings.KeyPath, out var chain);
        var clients = mutual ? new PrivateTrust(PemFiles.Authorities(Section + "ClientCaPath", settings.ClientCaPath!)) : null;
        return new ServerTls(certificate, chain, clients);
    }

    /// <summary>A fresh options object per endpoint: Kestrel keeps per-endpoint state (protocols) in it.</summary>
    public HttpsConnectionAdapterOptions HttpsOptions()
    {
        var https = new HttpsConnectionAdapterOptions
        {
            ServerCertificate = _certificate,
            ServerCertificateChain = _chain,
            ClientCertificateMode = _clients is null ? ClientCertificateMode.NoCertificate : ClientCertificateMode.RequireCertificate,
        };
        if (_clients is { } clients)
        {
            // Kestrel's chain was built against the machine's roots; the client CA alone decides.
            https.ClientCertificateValidation = (certificate, chain, _) => clients.Validates(certificate, chain, PrivateTrust.ClientAuthentication);
        }

        return https;
    }
}
