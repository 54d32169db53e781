using Microservices.Hosting.Server;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.Tokens;

namespace Microservices.Hosting.Security;

/// <summary>
/// A refused gRPC call gets a gRPC status (trailers-only: HTTP 200, grpc-status 16 or 7) with a
/// message saying what was wrong with the token, instead of a bare HTTP 401 that clients turn
/// into "Bad gRPC response". The message never contains the token.
/// </summary>
internal static class GrpcAuthResponses
{
    public static Task ChallengeAsync(JwtBearerChallengeContext context)
    {
        if (!IsGrpc(context.Request))
        {
            return Task.CompletedTask;
        }

        context.HandleResponse();
        GrpcTrailersOnly.Write(context.Response, Grpc.Core.StatusCode.Unauthenticated, Reason(context.AuthenticateFailure, context.Request));
        return Task.CompletedTask;
    }

    public static Task ForbiddenAsync(ForbiddenContext context)
    {
        if (IsGrpc(context.Request))
        {
            GrpcTrailersOnly.Write(context.Response, Grpc.Core.StatusCode.PermissionDenied, "the caller may not call this method");
        }

        return Task.CompletedTask;
    }

    internal static string Reason(Exception? failure, HttpRequest request) => failure switch
    {
        null when request.Headers.Authorization.Count == 0 => "no bearer token: send the metadata header 'authorization: Bearer <token>'",
        null => "the authorization header is not 'Bearer <token>'",
        SecurityTokenExpiredException => "the bearer token has expired",
        SecurityTokenNotYetValidException => "the bearer token is not valid yet (nbf)",
        SecurityTokenNoExpirationException => "the bearer token has no expiry (exp)",
        SecurityTokenInvalidAudienceException => "the bearer token is not for this audience (aud)",
        SecurityTokenInvalidIssuerException => "the bearer token's issuer (iss) is not trusted",
        SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException => "the bearer token's signature does not verify",
        SecurityTokenInvalidAlgorithmException => "the bearer token's algorithm is not accepted",
        AuthenticationFailureException { Message: var message } => $"the bearer token is refused: {message}",
        SecurityTokenMalformedException or ArgumentException => "the bearer token is not a JWT",
        _ => "the bearer token is not valid",
    };

    private static bool IsGrpc(HttpRequest request) => request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true;
}
