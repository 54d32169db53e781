using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace Microservices.Hosting.Security;

/// <summary>The keys Auth names, loaded once at start; a bad or missing one stops the host with the key to fix.</summary>
internal static class SigningKeys
{
    private const int MinimumHmacBytes = 32;

    /// <returns>The keys, or null when they come from an OpenID Connect authority.</returns>
    public static IReadOnlyList<SecurityKey>? ForOwnerTokens(AuthSettings settings, string contentRoot)
    {
        if (string.IsNullOrWhiteSpace(settings.Issuer) || string.IsNullOrWhiteSpace(settings.Audience))
        {
            throw new InvalidOperationException("Auth:Issuer and Auth:Audience must be set: every token's iss and aud are checked.");
        }

        var hmac = !string.IsNullOrEmpty(settings.HmacKey) || !string.IsNullOrEmpty(settings.HmacKeyFile);
        var sources = new[] { hmac, settings.PublicKeyFiles.Length > 0, !string.IsNullOrEmpty(settings.JwksFile), !string.IsNullOrEmpty(settings.Authority) };
        if (sources.Count(s => s) != 1)
        {
            throw new InvalidOperationException(
                "Auth: set exactly one of Auth:HmacKey (or Auth:HmacKeyFile; HS256, development), Auth:PublicKeyFiles (RS256/ES256 PEM), "
                + "Auth:JwksFile or Auth:Authority (OpenID Connect). `./dev up` makes a development key.");
        }

        if (hmac)
        {
            return [Hmac(settings, contentRoot)];
        }

        if (settings.PublicKeyFiles.Length > 0)
        {
            return settings.PublicKeyFiles.Select(path => PublicKey(Resolve(path, contentRoot), "Auth:PublicKeyFiles")).ToList();
        }

        if (!string.IsNullOrEmpty(settings.JwksFile))
        {
            var path = Resolve(settings.JwksFile, contentRoot);
            var keys = new JsonWebKeySet(Read(path, "Auth:JwksFile")).GetSigningKeys();
            return keys.Count > 0 ? keys.ToList() : throw new InvalidOperationException($"Auth:JwksFile {path} holds no signing key.");
        }

        return null;
    }

    public static SecurityKey ForDelegatedTokens(AuthSettings.DelegationSettings settings, string contentRoot)
    {
        if (string.IsNullOrEmpty(settings.PublicKeyFile))
        {
            throw new InvalidOperationException("Auth:Delegation:Issuer is set, so Auth:Delegation:PublicKeyFile (the delegating service's EC P-256 public key, PEM) must be too.");
        }

        return PublicKey(Resolve(settings.PublicKeyFile, contentRoot), "Auth:Delegation:PublicKeyFile") is ECDsaSecurityKey key
            ? key
            : throw new InvalidOperationException("Auth:Delegation:PublicKeyFile must be an EC P-256 key (ES256).");
    }

    private static SymmetricSecurityKey Hmac(AuthSettings settings, string contentRoot)
    {
        var text = string.IsNullOrEmpty(settings.HmacKey) ? Read(Resolve(settings.HmacKeyFile, contentRoot), "Auth:HmacKeyFile").Trim() : settings.HmacKey;
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            throw new InvalidOperationException("Auth:HmacKey must be base64.");
        }

        return bytes.Length >= MinimumHmacBytes
            ? new SymmetricSecurityKey(bytes)
            : throw new InvalidOperationException($"Auth:HmacKey must decode to at least {MinimumHmacBytes} bytes (HS256), got {bytes.Length}.");
    }

    private static SecurityKey PublicKey(string path, string setting)
    {
        var pem = Read(path, setting);
        if (pem.Contains("PRIVATE KEY", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{setting} {path} holds a private key; give the service only the public key.");
        }

        try
        {
            var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            return new ECDsaSecurityKey(ec);
        }
        catch (CryptographicException)
        {
        }

        try
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return new RsaSecurityKey(rsa);
        }
        catch (Exception error) when (error is CryptographicException or ArgumentException)
        {
            throw new InvalidOperationException($"{setting} {path} is neither an EC nor an RSA public key in PEM.", error);
        }
    }

    private static string Resolve(string path, string contentRoot) => Path.IsPathRooted(path) ? path : Path.Combine(contentRoot, path);

    private static string Read(string path, string setting) =>
        File.Exists(path) ? File.ReadAllText(path) : throw new InvalidOperationException($"{setting}: no file {path}.");
}
