using Microservices.Grpc.Client;
using Microservices.Grpc.Tests.Support;

namespace Microservices.Grpc.Tests.Interop;

/// <summary>The same cases, our client against our server, so both halves are held to one standard (incl. the compression probe).</summary>
public sealed class OurClientAgainstOurServerTests : InteropServerTest
{
    public static TheoryData<string> Cases => PythonClientAgainstOurServerTests.Cases;

    [Theory]
    [MemberData(nameof(Cases))]
    public Task Case_passes(string testCase) => new InteropClientCases(Channel).RunAsync(testCase);
}
