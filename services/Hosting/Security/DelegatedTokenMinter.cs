using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Microservices.Hosting.Security;

/// <summary>
/// Mints what <see cref="DelegatedTokenRules"/> accepts: ES256 tokens acting for one owner within
/// one job with the scopes that job needs. Only the delegating service (the export) holds the key.
/// </summary>
public sealed class DelegatedTokenMinter(ECDsa key, string issuer, string audience, string actor)
{
    private readonly ECDsaSecurityKey _key = new(key);
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    public string Mint(string owner, string jobId, IEnumerable<string> scopes, TimeSpan lifetime, DateTimeOffset now)
    {
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = now.Add(lifetime).UtcDateTime,
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.EcdsaSha256),
            Claims = new Dictionary<string, object>
            {
                ["sub"] = owner,
                [TokenClaims.Actor] = new Dictionary<string, object> { ["sub"] = actor },
                [TokenClaims.Scope] = string.Join(' ', scopes),
                [TokenClaims.Job] = jobId,
            },
        };
        return _handler.CreateToken(descriptor);
    }
}
