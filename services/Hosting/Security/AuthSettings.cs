namespace Microservices.Hosting.Security;

/// <summary>
/// Section "Auth": who may sign the bearer tokens a service accepts. Exactly one way to get the
/// owner tokens' keys: an HMAC key (HS256, development), PEM public keys (RS256, ES256), a JWKS
/// file, or an OpenID Connect authority (keys from its discovery document, refreshed).
/// </summary>
public sealed class AuthSettings
{
    public const string SectionName = "Auth";

    /// <summary>The <c>iss</c> every owner token must carry.</summary>
    public string Issuer { get; set; } = "";

    /// <summary>The <c>aud</c> every token must carry.</summary>
    public string Audience { get; set; } = "";

    /// <summary>Base64 of at least 32 random bytes (HS256). Development only; put it in a Secret.</summary>
    public string HmacKey { get; set; } = "";

    /// <summary>A file holding <see cref="HmacKey"/> (base64), so the key need not be in the environment.</summary>
    public string HmacKeyFile { get; set; } = "";

    /// <summary>PEM files of RSA or EC P-256 public keys (RS256, ES256).</summary>
    public string[] PublicKeyFiles { get; set; } = [];

    /// <summary>A JSON Web Key Set file (RFC 7517), as an identity provider publishes it.</summary>
    public string JwksFile { get; set; } = "";

    /// <summary>An OpenID Connect issuer URL; keys come from its /.well-known/openid-configuration.</summary>
    public string Authority { get; set; } = "";

    /// <summary>Off only to reach a development authority over http.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>Allowed clock difference when checking exp and nbf.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The claim holding roles (a string or an array).</summary>
    public string RoleClaim { get; set; } = "roles";

    /// <summary>The role operator methods (backup, integrity check, garbage collection) need.</summary>
    public string AdminRole { get; set; } = "admin";

    public DelegationSettings Delegation { get; set; } = new();

    /// <summary>
    /// Tokens a trusted service (the export) mints to act for one owner within one job: their own
    /// issuer and key, an <c>act</c> claim naming the service, a <c>scope</c>, a short lifetime.
    /// </summary>
    public sealed class DelegationSettings
    {
        /// <summary>Empty: no delegated tokens are accepted.</summary>
        public string Issuer { get; set; } = "";

        /// <summary>PEM file of the delegating service's EC P-256 public key.</summary>
        public string PublicKeyFile { get; set; } = "";

        /// <summary>The only <c>act.sub</c> accepted.</summary>
        public string Actor { get; set; } = "export";

        /// <summary>A delegated token living longer than this (exp − iat) is refused.</summary>
        public TimeSpan MaxLifetime { get; set; } = TimeSpan.FromMinutes(15);
    }
}
