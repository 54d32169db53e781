using System.Security.Cryptography;

namespace Microservices.Export.Delegation;

/// <summary>
/// Export:Delegation: the key and names of the tokens the export mints to call registry and blob
/// for one owner within one job. Registry and blob trust them through their Auth:Delegation
/// (the same issuer, the public half of this key, and a MaxLifetime at least <see cref="Lifetime"/>).
/// </summary>
internal sealed class DelegationOptions
{
    public const string Section = "Export:Delegation";

    /// <summary>The registry's and blob's default Auth:Delegation:MaxLifetime.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromMinutes(15);

    /// <summary>PEM file of the EC P-256 private key (PKCS#8 or SEC1) delegated tokens are signed with (ES256); relative paths are under DataDirectory.</summary>
    public string KeyFile { get; set; } = "";

    /// <summary>The <c>iss</c> of delegated tokens; registry and blob set the same Auth:Delegation:Issuer. Must differ from Auth:Issuer.</summary>
    public string Issuer { get; set; } = "";

    /// <summary>The <c>aud</c> of delegated tokens; empty means Auth:Audience (what registry and blob check).</summary>
    public string Audience { get; set; } = "";

    /// <summary>How long a delegated token lives; at most what registry and blob accept (Auth:Delegation:MaxLifetime, 15 min by default).</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>A job's token is minted again when less than this is left of it, so no call of a long job starts with a token about to expire.</summary>
    public TimeSpan RenewBefore { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Refuses, at start, settings every job would fail with, naming the key to fix; returns the signing key.</summary>
    public ECDsa Validate(string ownerIssuer, string? dataDirectory)
    {
        Require(!string.IsNullOrWhiteSpace(KeyFile),
            "Export:Delegation:KeyFile must name the EC P-256 private key (PEM) the export signs its delegated tokens with; registry and blob trust its public half (Auth:Delegation:PublicKeyFile). `./dev up` makes one.");
        Require(!string.IsNullOrWhiteSpace(Issuer), "Export:Delegation:Issuer must be set (the iss registry and blob accept as Auth:Delegation:Issuer).");
        Require(!string.Equals(Issuer, ownerIssuer, StringComparison.Ordinal),
            "Export:Delegation:Issuer must differ from Auth:Issuer: registry and blob tell delegated tokens from owner tokens by their issuer.");
        Require(!string.IsNullOrWhiteSpace(Audience), "Export:Delegation:Audience (or Auth:Audience) must be set: the aud registry and blob check.");
        Require(Lifetime > TimeSpan.Zero && Lifetime <= MaxLifetime,
            $"Export:Delegation:Lifetime is {Lifetime}; it must be more than 0 and at most {MaxLifetime} (registry's and blob's Auth:Delegation:MaxLifetime).");
        Require(RenewBefore >= TimeSpan.Zero && RenewBefore < Lifetime,
            $"Export:Delegation:RenewBefore is {RenewBefore}; it must be at least 0 and less than Export:Delegation:Lifetime ({Lifetime}).");
        return LoadKey(Path.IsPathRooted(KeyFile) || string.IsNullOrWhiteSpace(dataDirectory) ? KeyFile : Path.Combine(dataDirectory, KeyFile));
    }

    private static ECDsa LoadKey(string path)
    {
        Require(File.Exists(path), $"Export:Delegation:KeyFile: no file {path}.");
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(File.ReadAllText(path));
        }
        catch (Exception error) when (error is CryptographicException or ArgumentException)
        {
            key.Dispose();
            throw new InvalidOperationException($"Export:Delegation:KeyFile {path} is not an EC private key in PEM.", error);
        }

        var parameters = key.ExportParameters(includePrivateParameters: false);
        if (parameters.Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
        {
            key.Dispose();
            throw new InvalidOperationException($"Export:Delegation:KeyFile {path} must be an EC P-256 key (ES256).");
        }

        try
        {
            _ = key.ExportParameters(includePrivateParameters: true);
        }
        catch (CryptographicException error)
        {
            key.Dispose();
            throw new InvalidOperationException($"Export:Delegation:KeyFile {path} holds only a public key; the export needs the private key to sign.", error);
        }

        return key;
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException(message);
        }
    }
}
