using System.Security.Cryptography;
using Grpc.Core;
using Microservices.Bench;
using Microservices.Clients;

namespace Microservices.ExportBench;

/// <summary>
/// The identities of one run, made fresh in its work folder: the HS256 key every service accepts
/// owners' tokens with, and the export's ES256 delegation key pair that registry and blob trust for
/// the export's own calls (the same wiring as ./dev up).
/// </summary>
internal sealed class BenchAuth
{
    private const string DelegationIssuer = "https://export.bench.local";
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private readonly string _delegationKeyFile;
    private readonly string _delegationPublicKeyFile;

    public BenchAuth(string directory)
    {
        Directory.CreateDirectory(directory);
        using var delegation = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _delegationKeyFile = Path.Combine(directory, "delegation.pem");
        _delegationPublicKeyFile = Path.Combine(directory, "delegation-public.pem");
        File.WriteAllText(_delegationKeyFile, delegation.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(_delegationPublicKeyFile, delegation.ExportSubjectPublicKeyInfoPem());
    }

    /// <summary>Auth settings of registry and blob: owners' tokens and the export's delegated ones.</summary>
    public Dictionary<string, string> Service() => new(OwnerTokens())
    {
        ["Auth__Delegation__Issuer"] = DelegationIssuer,
        ["Auth__Delegation__PublicKeyFile"] = _delegationPublicKeyFile,
    };

    /// <summary>The export's: owners' tokens, and the key it mints its delegated tokens with.</summary>
    public Dictionary<string, string> Export() => new(OwnerTokens())
    {
        ["Export__Delegation__KeyFile"] = _delegationKeyFile,
        ["Export__Delegation__Issuer"] = DelegationIssuer,
    };

    private Dictionary<string, string> OwnerTokens() => new()
    {
        ["Auth__Issuer"] = BenchToken.Issuer,
        ["Auth__Audience"] = BenchToken.Audience,
        ["Auth__HmacKey"] = Convert.ToBase64String(_key),
    };

    public Metadata Headers(string owner) => BearerToken.Headers(BenchToken.Mint(_key, owner, TimeSpan.FromHours(6)));
}
