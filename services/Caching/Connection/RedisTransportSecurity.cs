using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using StackExchange.Redis;

namespace Microservices.Caching.Connection;

/// <summary>
/// What the connection string cannot say, or should not: the password (so the string can live in a
/// ConfigMap and the password in a Secret), the private CA the server's certificate must chain to,
/// and a client certificate for a server that authenticates TLS clients (redis' tls-auth-clients).
/// </summary>
internal static class RedisTransportSecurity
{
    public const string PasswordKey = "Redis:Password";
    public const string CaCertificatePathKey = "Redis:CaCertificatePath";
    public const string ClientCertificatePathKey = "Redis:ClientCertificatePath";
    public const string ClientKeyPathKey = "Redis:ClientKeyPath";

    public static void Apply(ConfigurationOptions options, IConfiguration configuration)
    {
        if (Setting(configuration, PasswordKey) is { } password)
        {
            options.Password = password;
        }

        var caPath = Setting(configuration, CaCertificatePathKey);
        var certificatePath = Setting(configuration, ClientCertificatePathKey);
        var keyPath = Setting(configuration, ClientKeyPathKey);
        if ((caPath ?? certificatePath ?? keyPath) is not null && !options.Ssl)
        {
            throw new InvalidOperationException(
                $"{CaCertificatePathKey}, {ClientCertificatePathKey} or {ClientKeyPathKey} is set but the connection string does not enable TLS; add ssl=true to {RedisConnection.ConnectionStringKey}.");
        }

        if (caPath is not null)
        {
            RequireFile(CaCertificatePathKey, caPath);
            // StackExchange.Redis checks the chain against this issuer alone (and still checks the host name).
            options.TrustIssuer(caPath);
        }

        if (keyPath is not null && certificatePath is null)
        {
            throw new InvalidOperationException($"{ClientKeyPathKey} is set without {ClientCertificatePathKey}; set both (or only the certificate when the key is in that file).");
        }

        if (certificatePath is not null)
        {
            var certificate = ClientCertificate(certificatePath, keyPath);
            options.CertificateSelection += (_, _, _, _, _) => certificate;
        }
    }

    private static X509Certificate2 ClientCertificate(string certificatePath, string? keyPath)
    {
        RequireFile(ClientCertificatePathKey, certificatePath);
        if (keyPath is not null)
        {
            RequireFile(ClientKeyPathKey, keyPath);
        }

        try
        {
            return X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        }
        catch (CryptographicException error)
        {
            throw new InvalidOperationException($"{ClientCertificatePathKey}: '{certificatePath}' is not a PEM certificate with its private key ({error.Message}).", error);
        }
    }

    private static string? Setting(IConfiguration configuration, string key) =>
        configuration[key] is { Length: > 0 } value ? value : null;

    private static void RequireFile(string key, string path)
    {
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"{key}: the file '{path}' does not exist.");
        }
    }
}
