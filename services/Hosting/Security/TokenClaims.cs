namespace Microservices.Hosting.Security;

/// <summary>Claim names beyond the registered ones (RFC 7519) that the services read or mint.</summary>
public static class TokenClaims
{
    /// <summary>RFC 8693's actor claim, <c>{"sub": "export"}</c>; flattened to this claim when validated.</summary>
    public const string Actor = "act";

    /// <summary>The actor's subject after validation (see <see cref="OwnerAuthentication"/>).</summary>
    public const string ActorSubject = "act.sub";

    /// <summary>Space-separated scopes (RFC 8693 §4.2).</summary>
    public const string Scope = "scope";

    /// <summary>The export job a delegated token was minted for.</summary>
    public const string Job = "job";
}
