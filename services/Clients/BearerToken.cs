using Grpc.Core;

namespace Microservices.Clients;

/// <summary>
/// Where the CLIs take the caller's bearer token from: a file named on the command line, else
/// $MICROSERVICES_TOKEN, else the file $MICROSERVICES_TOKEN_FILE names. Never from an argument
/// itself, so the token stays out of shell history and process listings.
/// </summary>
public static class BearerToken
{
    public const string Variable = "MICROSERVICES_TOKEN";
    public const string FileVariable = "MICROSERVICES_TOKEN_FILE";

    public static string? Find(string? tokenFile = null)
    {
        if (!string.IsNullOrEmpty(tokenFile))
        {
            return Read(tokenFile);
        }

        var token = Environment.GetEnvironmentVariable(Variable);
        if (!string.IsNullOrWhiteSpace(token))
        {
            return token.Trim();
        }

        var file = Environment.GetEnvironmentVariable(FileVariable);
        return string.IsNullOrEmpty(file) ? null : Read(file);
    }

    /// <summary>The authorization header, or no header when there is no token (the server then says UNAUTHENTICATED).</summary>
    public static Metadata Headers(string? token) => string.IsNullOrEmpty(token) ? [] : new Metadata { { "authorization", "Bearer " + token } };

    private static string Read(string path) =>
        File.Exists(path) ? File.ReadAllText(path).Trim() : throw new FileNotFoundException($"no token file {path}", path);
}
