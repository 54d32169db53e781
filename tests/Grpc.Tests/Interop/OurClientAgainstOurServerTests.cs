using Microservices.Grpc.Client;
using Microservices.Grpc.Tests.Support;

namespace Microservices.Grpc.Tests.Interop;

/// <summary>The same cases, our client against our server, so both halves are held to one standard (incl. the compression probe).</summary>
public sealed class OurClientAgainstOurServerTests : IAsyncLifetime
{
    private TestGrpcServer _server = null!;
    private GrpcChannel _channel = null!;

    public static TheoryData<string> Cases => PythonClientAgainstOurServerTests.Cases;

    public async Task InitializeAsync()
    {
        _server = await TestGrpcServer.StartAsync(grpc => grpc.AddService<InteropTestService>(TestContract.Service));
        _channel = GrpcChannel.ForAddress(_server.Address);
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _server.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public Task Case_passes(string testCase) => new InteropClientCases(_channel).RunAsync(testCase);
}
