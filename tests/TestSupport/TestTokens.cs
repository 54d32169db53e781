using System.Security.Cryptography;
using Grpc.Core;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Microservices.TestSupport;

/// <summary>The kinds of caller the authorization matrix tries on every RPC.</summary>
public enum TokenKind
{
    None,
    Expired,
    WrongAudience,
    WrongIssuer,
    BadSignature,
    OtherOwner,
    RightOwner,
    Admin,
}

/// <summary>
/// Bearer tokens for tests, minted with Microsoft.IdentityModel against the HS256 key every test
/// host is configured with (<see cref="Settings"/>), plus an ES256 key for delegated tokens.
/// </summary>
public static class TestTokens
{
    public const string Issuer = "https://issuer.test";
    public const string Audience = "microservices";
    public const string DelegationIssuer = "https://export.test";

    /// <summary>Fixed so a test process and a service process it starts agree.</summary>
    public static readonly string HmacKey = Convert.ToBase64String(SHA256.HashData("microservices test signing key"u8));

    private static readonly SymmetricSecurityKey Key = new(Convert.FromBase64String(HmacKey));
    private static readonly SymmetricSecurityKey OtherKey = new(SHA256.HashData("not the key"u8));
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>The delegating service's key (a process-wide ES256 key pair).</summary>
    public static ECDsa DelegationKey { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>The Auth settings of a host that accepts these tokens.</summary>
    public static Dictionary<string, string?> Settings() => new()
    {
        ["Auth:Issuer"] = Issuer,
        ["Auth:Audience"] = Audience,
        ["Auth:HmacKey"] = HmacKey,
    };

    /// <summary><see cref="Settings"/> plus trust in <see cref="DelegationKey"/> (its public PEM written into <paramref name="directory"/>).</summary>
    public static Dictionary<string, string?> SettingsWithDelegation(string directory)
    {
        var path = Path.Combine(directory, "delegation-public.pem");
        File.WriteAllText(path, DelegationKey.ExportSubjectPublicKeyInfoPem());
        var settings = Settings();
        settings["Auth:Delegation:Issuer"] = DelegationIssuer;
        settings["Auth:Delegation:PublicKeyFile"] = path;
        return settings;
    }

    public static string For(string owner, params string[] roles) => Create(owner, roles: roles);

    public static string Admin(string subject = "operator") => Create(subject, roles: ["admin"]);

    public static string Create(
        string subject,
        TimeSpan? lifetime = null,
        DateTimeOffset? notBefore = null,
        string issuer = Issuer,
        string audience = Audience,
        SecurityKey? key = null,
        string[]? roles = null,
        IDictionary<string, object>? claims = null)
    {
        var now = DateTimeOffset.UtcNow;
        var from = notBefore ?? now.AddMinutes(-1);
        var all = new Dictionary<string, object> { ["sub"] = subject };
        if (roles is { Length: > 0 })
        {
            all["roles"] = roles;
        }

        foreach (var (name, value) in claims ?? new Dictionary<string, object>())
        {
            all[name] = value;
        }

        var signingKey = key ?? Key;
        var algorithm = signingKey switch
        {
            ECDsaSecurityKey => SecurityAlgorithms.EcdsaSha256,
            RsaSecurityKey => SecurityAlgorithms.RsaSha256,
            _ => SecurityAlgorithms.HmacSha256,
        };
        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = from.UtcDateTime,
            NotBefore = from.UtcDateTime,
            Expires = from.Add(lifetime ?? TimeSpan.FromHours(1)).UtcDateTime,
            Claims = all,
            SigningCredentials = new SigningCredentials(signingKey, algorithm),
        });
    }

    /// <summary>A token of each <see cref="TokenKind"/> for <paramref name="owner"/> (OtherOwner: "mallory"); null for None.</summary>
    public static string? Of(TokenKind kind, string owner) => kind switch
    {
        TokenKind.None => null,
        TokenKind.Expired => Create(owner, lifetime: TimeSpan.FromMinutes(5), notBefore: DateTimeOffset.UtcNow.AddHours(-1)),
        TokenKind.WrongAudience => Create(owner, audience: "someone-else"),
        TokenKind.WrongIssuer => Create(owner, issuer: "https://evil.test"),
        TokenKind.BadSignature => Create(owner, key: OtherKey),
        TokenKind.OtherOwner => For("mallory"),
        TokenKind.RightOwner => For(owner),
        TokenKind.Admin => Admin(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>A token the delegating service would mint for <paramref name="owner"/> within <paramref name="job"/>.</summary>
    public static string Delegated(string owner, string job, string scope, string actor = "export", TimeSpan? lifetime = null) =>
        Create(owner, lifetime ?? TimeSpan.FromMinutes(5), issuer: DelegationIssuer, key: new ECDsaSecurityKey(DelegationKey), claims: new Dictionary<string, object>
        {
            ["act"] = new Dictionary<string, object> { ["sub"] = actor },
            ["scope"] = scope,
            ["job"] = job,
        });

    public static Metadata Bearer(string? token) => token is null ? [] : new Metadata { { "authorization", "Bearer " + token } };

    /// <summary>Request metadata carrying a valid token whose subject is <paramref name="owner"/>.</summary>
    public static Metadata As(string owner) => Bearer(For(owner));
}
