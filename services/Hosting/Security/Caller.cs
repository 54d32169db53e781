using System.Security.Claims;
using Grpc.Core;

namespace Microservices.Hosting.Security;

/// <summary>
/// Who is calling, from the verified bearer token: the owner is the token's subject. A delegated
/// caller (the export acting for an owner within a job) is limited to the scopes its token names.
/// </summary>
public sealed class Caller
{
    internal Caller(string subject, bool isAdmin, string? actor, string? jobId, IReadOnlySet<string> scopes)
    {
        Subject = subject;
        IsAdmin = isAdmin;
        Actor = actor;
        JobId = jobId;
        Scopes = scopes;
    }

    /// <summary>The owner every call acts as.</summary>
    public string Subject { get; }

    public bool IsAdmin { get; }

    /// <summary>The service acting for <see cref="Subject"/>, or null for the owner's own token.</summary>
    public string? Actor { get; }

    public string? JobId { get; }

    public IReadOnlySet<string> Scopes { get; }

    /// <summary>
    /// The owner a request acts on: the subject when the request names none, the subject when it
    /// names the subject, and PERMISSION_DENIED when it names anyone else.
    /// </summary>
    public string Owner(string? requested, string field = "owner")
    {
        if (string.IsNullOrEmpty(requested) || string.Equals(requested, Subject, StringComparison.Ordinal))
        {
            return Subject;
        }

        throw new RpcException(new Status(StatusCode.PermissionDenied, $"{field} must be empty or the caller's own (the token's subject)"));
    }

    /// <summary>Operator methods: PERMISSION_DENIED unless the token carries the admin role.</summary>
    public void RequireAdmin(string method)
    {
        if (!IsAdmin || Actor is not null)
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"{method} needs the admin role"));
        }
    }

    /// <summary>An owner's own token may do anything to the owner's data; a delegated one only what its scope names.</summary>
    public void RequireScope(string scope)
    {
        if (Actor is not null && !Scopes.Contains(scope))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"a token delegated to {Actor} does not carry scope {scope}"));
        }
    }

    internal static Caller From(ClaimsPrincipal user, AuthSettings settings)
    {
        var subject = user.FindFirst("sub")?.Value;
        if (string.IsNullOrEmpty(subject))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, "the bearer token has no subject"));
        }

        var actor = user.FindFirst(TokenClaims.ActorSubject)?.Value;
        var roles = user.FindAll(settings.RoleClaim).Select(c => c.Value);
        var scopes = user.FindAll("scope").SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToHashSet(StringComparer.Ordinal);
        return new Caller(subject, roles.Contains(settings.AdminRole, StringComparer.Ordinal), actor, user.FindFirst("job")?.Value, scopes);
    }
}
