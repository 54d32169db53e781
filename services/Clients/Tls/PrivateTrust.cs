using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Microservices.Clients.Tls;

/// <summary>
/// Validates a peer's certificate against the configured CA only: the machine's roots grant
/// nothing, so a certificate from a public CA (or another private one) is refused.
/// </summary>
internal sealed class PrivateTrust(X509Certificate2Collection authorities)
{
    public static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");

    public static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    /// <summary>
    /// Whether <paramref name="certificate"/> chains to one of the authorities and may be used for
    /// <paramref name="usage"/>; intermediates the peer sent (in <paramref name="presented"/>) help
    /// build the chain but are not trusted themselves.
    /// </summary>
    public bool Validates(X509Certificate certificate, X509Chain? presented, Oid usage)
    {
        using var leaf = new X509Certificate2(certificate);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        // Our own CA publishes no CRL or OCSP responder; revocation is by rotating the CA or the certificate.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(usage);
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements.Skip(1))
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return chain.Build(leaf);
    }
}
