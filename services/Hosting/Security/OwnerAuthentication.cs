using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Microservices.Hosting.Security;

/// <summary>
/// Bearer tokens on every gRPC method of a service (JwtBearer), the owner being the token's
/// subject. Health, reflection and anything marked AllowAnonymous stay open. Two schemes behind
/// one policy scheme: owner tokens (section Auth) and, when Auth:Delegation is set, tokens a
/// trusted service mints to act for an owner; each is checked only against its own keys, so the
/// delegating service's key can never mint an unrestricted owner token.
/// </summary>
public static class OwnerAuthentication
{
    public const string Scheme = "owner";
    internal const string OwnerTokenScheme = "owner-token";
    internal const string DelegatedTokenScheme = "delegated-token";

    // Reading a token's header and payload keeps no state: one handler serves every request.
    private static readonly JsonWebTokenHandler UnverifiedReader = new();

    public static WebApplicationBuilder AddOwnerAuthentication(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var section = builder.Configuration.GetSection(AuthSettings.SectionName);
        var settings = section.Get<AuthSettings>() ?? new AuthSettings();
        var contentRoot = builder.Environment.ContentRootPath;
        var ownerKeys = SigningKeys.ForOwnerTokens(settings, contentRoot);
        builder.Services.AddOptions<AuthSettings>().Bind(section);

        var delegated = !string.IsNullOrEmpty(settings.Delegation.Issuer);
        var authentication = builder.Services.AddAuthentication(Scheme)
            .AddPolicyScheme(Scheme, null, o => o.ForwardDefaultSelector = http =>
                delegated && IssuerOf(http) == settings.Delegation.Issuer ? DelegatedTokenScheme : OwnerTokenScheme)
            .AddJwtBearer(OwnerTokenScheme, o =>
            {
                Common(o, settings);
                o.TokenValidationParameters.ValidIssuer = settings.Issuer;
                if (ownerKeys is null)
                {
                    o.Authority = settings.Authority;
                    o.RequireHttpsMetadata = settings.RequireHttpsMetadata;
                }
                else
                {
                    o.TokenValidationParameters.IssuerSigningKeys = ownerKeys;
                }
            });
        if (delegated)
        {
            var key = SigningKeys.ForDelegatedTokens(settings.Delegation, contentRoot);
            authentication.AddJwtBearer(DelegatedTokenScheme, o =>
            {
                Common(o, settings);
                o.TokenValidationParameters.ValidIssuer = settings.Delegation.Issuer;
                o.TokenValidationParameters.IssuerSigningKey = key;
                o.TokenValidationParameters.ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256];
                o.Events.OnTokenValidated = context => DelegatedTokenRules.Check(context, settings.Delegation);
            });
        }

        builder.Services.AddAuthorizationBuilder().SetFallbackPolicy(
            new AuthorizationPolicyBuilder(Scheme).RequireAuthenticatedUser().Build());
        return builder;
    }

    private static void Common(JwtBearerOptions o, AuthSettings settings)
    {
        o.MapInboundClaims = false;
        o.IncludeErrorDetails = false;
        o.TokenValidationParameters = new TokenValidationParameters
        {
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidAudience = settings.Audience,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = settings.ClockSkew,
            NameClaimType = "sub",
            RoleClaimType = settings.RoleClaim,
            ValidAlgorithms =
            [
                SecurityAlgorithms.HmacSha256, SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256,
                SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.RsaSha384,
            ],
        };
        o.Events = new JwtBearerEvents
        {
            OnChallenge = GrpcAuthResponses.ChallengeAsync,
            OnForbidden = GrpcAuthResponses.ForbiddenAsync,
        };
    }

    /// <summary>The unverified issuer, only to pick the scheme that then verifies everything.</summary>
    private static string? IssuerOf(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var raw = header["Bearer ".Length..].Trim();
        return UnverifiedReader.CanReadToken(raw) ? UnverifiedReader.ReadJsonWebToken(raw).Issuer : null;
    }
}
