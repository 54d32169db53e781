using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Microservices.Hosting.Security;

/// <summary>
/// What a delegated token must also be, beyond a valid signature, issuer, audience and lifetime:
/// an <c>act</c> naming the one trusted actor, a scope, a job, and a short life.
/// </summary>
internal static class DelegatedTokenRules
{
    public static Task Check(TokenValidatedContext context, AuthSettings.DelegationSettings settings)
    {
        var failure = Failure(context, settings);
        if (failure is not null)
        {
            context.Fail(failure);
            return Task.CompletedTask;
        }

        var identity = (ClaimsIdentity)context.Principal!.Identity!;
        identity.AddClaim(new Claim(TokenClaims.ActorSubject, settings.Actor));
        return Task.CompletedTask;
    }

    private static string? Failure(TokenValidatedContext context, AuthSettings.DelegationSettings settings)
    {
        if (context.SecurityToken is not JsonWebToken token)
        {
            return "not a JWT";
        }

        if (!token.TryGetPayloadValue<JsonElement>(TokenClaims.Actor, out var act) || act.ValueKind != JsonValueKind.Object
            || !act.TryGetProperty("sub", out var actor) || actor.GetString() != settings.Actor)
        {
            return $"a delegated token must carry act.sub = {settings.Actor}";
        }

        if (!token.TryGetPayloadValue<string>(TokenClaims.Scope, out var scope) || string.IsNullOrWhiteSpace(scope))
        {
            return "a delegated token must carry a scope";
        }

        if (!token.TryGetPayloadValue<string>(TokenClaims.Job, out var job) || string.IsNullOrEmpty(job))
        {
            return "a delegated token must name its job";
        }

        return token.ValidTo - token.IssuedAt > settings.MaxLifetime ? $"a delegated token may live at most {settings.MaxLifetime}" : null;
    }
}
