using Microservices.Export.Delegation;
using Microservices.Hosting.Security;
using Microservices.TestSupport;

namespace Microservices.Export.Tests.Support;

/// <summary>The export's job credentials minted with the test delegation key, as registry and blob hosts of <see cref="ExportSystem"/> trust it.</summary>
internal static class TestCredentials
{
    public static JobCredentials Create(TimeProvider? time = null, DelegationOptions? options = null)
    {
        options ??= new DelegationOptions { Issuer = TestTokens.DelegationIssuer, Audience = TestTokens.Audience };
        return new JobCredentials(new DelegatedTokenMinter(TestTokens.DelegationKey, options.Issuer, options.Audience, JobCredentials.Actor), options, time ?? TimeProvider.System);
    }
}
