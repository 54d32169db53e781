using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Microservices.Clients.Tls;

/// <summary>The TLS side of <see cref="GrpcClientOptions"/>: a private CA to trust and a client certificate.</summary>
internal static class ClientTls
{
    public static void Apply(SslClientAuthenticationOptions ssl, GrpcClientOptions options)
    {
        if (options.CaCertificatePath is { } caPath)
        {
            var trust = new PrivateTrust(PemFiles.Authorities(nameof(GrpcClientOptions.CaCertificatePath), caPath));
            ssl.RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
                certificate is not null &&
                // The name check stays the platform's; only the question of which roots to trust is ours.
                (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) == 0 &&
                trust.Validates(certificate, chain, PrivateTrust.ServerAuthentication);
        }

        if (options.ClientCertificatePath is { } certificatePath)
        {
            var certificate = PemFiles.CertificateWithKey(
                nameof(GrpcClientOptions.ClientCertificatePath), certificatePath,
                nameof(GrpcClientOptions.ClientKeyPath), options.ClientKeyPath, out var chain);
            ssl.ClientCertificateContext = SslStreamCertificateContext.Create(certificate, chain, offline: true);
        }
    }
}
