using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Microservices.Clients.Tls;

/// <summary>
/// Certificates and keys as operators hand them over (PEM files from a Kubernetes Secret), loaded
/// with a message that names the setting and the file when one is missing or unreadable.
/// </summary>
internal static class PemFiles
{
    /// <summary>
    /// A certificate with its private key. The certificate file may hold the chain after the leaf
    /// (returned as <paramref name="chain"/>); <paramref name="keyPath"/> null means the key is in the certificate file.
    /// </summary>
    public static X509Certificate2 CertificateWithKey(
        string setting, string certificatePath, string keySetting, string? keyPath, out X509Certificate2Collection chain)
    {
        Require(setting, certificatePath);
        if (keyPath is not null)
        {
            Require(keySetting, keyPath);
        }

        try
        {
            var certificate = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
            var all = new X509Certificate2Collection();
            all.ImportFromPemFile(certificatePath);
            chain = new X509Certificate2Collection(all.Skip(1).ToArray());
            foreach (var leaf in all.Take(1))
            {
                leaf.Dispose();
            }

            return certificate;
        }
        catch (CryptographicException error)
        {
            throw new InvalidOperationException(
                $"{setting}: '{certificatePath}'{(keyPath is null ? "" : $" with key '{keyPath}'")} is not a PEM certificate with its private key ({error.Message}).", error);
        }
    }

    /// <summary>The CA certificates (one or more, PEM) a private trust is anchored on.</summary>
    public static X509Certificate2Collection Authorities(string setting, string path)
    {
        Require(setting, path);
        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(path);
        }
        catch (CryptographicException error)
        {
            throw new InvalidOperationException($"{setting}: '{path}' is not a PEM certificate file ({error.Message}).", error);
        }

        return authorities.Count > 0
            ? authorities
            : throw new InvalidOperationException($"{setting}: '{path}' holds no PEM certificate (-----BEGIN CERTIFICATE-----).");
    }

    private static void Require(string setting, string path)
    {
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"{setting}: the file '{path}' does not exist.");
        }
    }
}
