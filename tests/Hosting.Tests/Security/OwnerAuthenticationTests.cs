using System.Security.Cryptography;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microservices.Hosting.Security;
using Microservices.Hosting.Tests.Support;
using Microservices.Testing.V1;
using Microservices.TestSupport;
using Microsoft.IdentityModel.Tokens;

namespace Microservices.Hosting.Tests.Security;

/// <summary>AddOwnerAuthentication on a real host: which tokens get through and what the refused ones are told.</summary>
public sealed class OwnerAuthenticationTests
{
    private static Task<ServiceHost> StartAsync(Dictionary<string, string?> settings) =>
        ServiceHost.StartAsync("auth-test", settings, services: b => b.AddOwnerAuthentication());

    private static async Task<StatusCode> CallAsync(ServiceHost host, string? token)
    {
        using var channel = GrpcChannel.ForAddress(host.Address);
        try
        {
            await new TestService.TestServiceClient(channel).EmptyCallAsync(new Empty(), TestTokens.Bearer(token));
            return StatusCode.OK;
        }
        catch (RpcException error)
        {
            return error.StatusCode;
        }
    }

    [Theory]
    [InlineData(TokenKind.None, StatusCode.Unauthenticated, "no bearer token: send the metadata header 'authorization: Bearer <token>'")]
    [InlineData(TokenKind.Expired, StatusCode.Unauthenticated, "the bearer token has expired")]
    [InlineData(TokenKind.WrongAudience, StatusCode.Unauthenticated, "the bearer token is not for this audience (aud)")]
    [InlineData(TokenKind.WrongIssuer, StatusCode.Unauthenticated, "the bearer token's issuer (iss) is not trusted")]
    [InlineData(TokenKind.BadSignature, StatusCode.Unauthenticated, "the bearer token's signature does not verify")]
    [InlineData(TokenKind.RightOwner, StatusCode.OK, null)]
    [InlineData(TokenKind.Admin, StatusCode.OK, null)]
    public async Task Hs256_tokens_are_checked_for_lifetime_audience_issuer_and_signature(TokenKind kind, StatusCode expected, string? message)
    {
        await using var host = await StartAsync(TestTokens.Settings());
        using var channel = GrpcChannel.ForAddress(host.Address);
        var call = async () => await new TestService.TestServiceClient(channel).EmptyCallAsync(new Empty(), TestTokens.Bearer(TestTokens.Of(kind, "alice")));
        if (expected == StatusCode.OK)
        {
            await call();
            return;
        }

        var error = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(expected, error.StatusCode);
        Assert.Equal(message, error.Status.Detail);
    }

    [Fact]
    public async Task Health_and_reflection_need_no_token_and_a_malformed_header_is_unauthenticated()
    {
        await using var host = await StartAsync(TestTokens.Settings());
        using var channel = GrpcChannel.ForAddress(host.Address);
        var health = await new Grpc.Health.V1.Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await new TestService.TestServiceClient(channel).EmptyCallAsync(new Empty(), new Metadata { { "authorization", "Bearer not-a-jwt" } }));
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.DoesNotContain("not-a-jwt", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Es256_and_rs256_public_keys_and_a_jwks_file_verify_tokens_and_nothing_else()
    {
        using var directory = new TempDirectory();
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var rsa = RSA.Create(2048);
        File.WriteAllText(Path.Combine(directory.Path, "ec.pem"), ec.ExportSubjectPublicKeyInfoPem());
        File.WriteAllText(Path.Combine(directory.Path, "rsa.pem"), rsa.ExportSubjectPublicKeyInfoPem());
        var settings = TestTokens.Settings();
        settings.Remove("Auth:HmacKey");
        settings["Auth:PublicKeyFiles:0"] = Path.Combine(directory.Path, "ec.pem");
        settings["Auth:PublicKeyFiles:1"] = Path.Combine(directory.Path, "rsa.pem");
        await using (var host = await StartAsync(settings))
        {
            Assert.Equal(StatusCode.OK, await CallAsync(host, TestTokens.Create("alice", key: new ECDsaSecurityKey(ec))));
            Assert.Equal(StatusCode.OK, await CallAsync(host, TestTokens.Create("alice", key: new RsaSecurityKey(rsa))));
            Assert.Equal(StatusCode.Unauthenticated, await CallAsync(host, TestTokens.For("alice"))); // HS256 with a key it was not given
            using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            Assert.Equal(StatusCode.Unauthenticated, await CallAsync(host, TestTokens.Create("alice", key: new ECDsaSecurityKey(other))));
        }

        var jwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(ECDsa.Create(ec.ExportParameters(false))) { KeyId = "k1" });
        File.WriteAllText(Path.Combine(directory.Path, "jwks.json"), System.Text.Json.JsonSerializer.Serialize(new { keys = new[] { new { kty = jwk.Kty, crv = jwk.Crv, x = jwk.X, y = jwk.Y, kid = jwk.Kid, use = "sig", alg = "ES256" } } }));
        settings.Remove("Auth:PublicKeyFiles:0");
        settings.Remove("Auth:PublicKeyFiles:1");
        settings["Auth:JwksFile"] = Path.Combine(directory.Path, "jwks.json");
        await using (var host = await StartAsync(settings))
        {
            Assert.Equal(StatusCode.OK, await CallAsync(host, TestTokens.Create("alice", key: new ECDsaSecurityKey(ec) { KeyId = "k1" })));
            Assert.Equal(StatusCode.Unauthenticated, await CallAsync(host, TestTokens.Create("alice", key: new RsaSecurityKey(rsa))));
        }
    }

    [Fact]
    public async Task Delegated_tokens_need_the_delegation_key_the_actor_a_scope_a_job_and_a_short_life()
    {
        using var directory = new TempDirectory();
        await using var host = await StartAsync(TestTokens.SettingsWithDelegation(directory.Path));
        Assert.Equal(StatusCode.OK, await CallAsync(host, TestTokens.Delegated("alice", "job-1", "blob.read")));
        Assert.Equal(StatusCode.Unauthenticated, await CallAsync(host, TestTokens.Delegated("alice", "job-1", "blob.read", actor: "mallory")));
        Assert.Equal(StatusCode.Unauthenticated, await CallAsync(host, TestTokens.Delegated("alice", "job-1", "blob.read", lifetime: TimeSpan.FromHours(2))));
        Assert.Equal(StatusCode.Unauthenticated, await CallAsync(host, TestTokens.Delegated("alice", "", "blob.read")));
        // The delegation key cannot mint an ordinary owner token, and the owner key cannot mint a delegated one.
        Assert.Equal(StatusCode.Unauthenticated, await CallAsync(host, TestTokens.Create("alice", key: new ECDsaSecurityKey(TestTokens.DelegationKey))));
        Assert.Equal(StatusCode.Unauthenticated, await CallAsync(host, TestTokens.Create("alice", issuer: TestTokens.DelegationIssuer, claims: new Dictionary<string, object>
        {
            ["act"] = new Dictionary<string, object> { ["sub"] = "export" }, ["scope"] = "blob.read", ["job"] = "j",
        })));
    }

    [Fact]
    public void A_host_without_a_key_source_or_with_two_does_not_start()
    {
        var none = Assert.Throws<InvalidOperationException>(() => ServiceHost.Build("t", 0, new Dictionary<string, string?> { ["Auth:Issuer"] = "i", ["Auth:Audience"] = "a" }, services: b => b.AddOwnerAuthentication()));
        Assert.Contains("set exactly one of Auth:HmacKey", none.Message);
        var settings = TestTokens.Settings();
        settings["Auth:JwksFile"] = "/nonexistent";
        Assert.Throws<InvalidOperationException>(() => ServiceHost.Build("t", 0, settings, services: b => b.AddOwnerAuthentication()));
        var shortKey = TestTokens.Settings();
        shortKey["Auth:HmacKey"] = Convert.ToBase64String(new byte[16]);
        Assert.Contains("at least 32 bytes", Assert.Throws<InvalidOperationException>(() => ServiceHost.Build("t", 0, shortKey, services: b => b.AddOwnerAuthentication())).Message);
    }
}
