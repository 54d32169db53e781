using Microservices.Grpc.Client;
using Microservices.Grpc.Tests.Interop;

namespace Microservices.Grpc.Tests.Support;

/// <summary>A test class with our server running the interop TestService and a channel to it.</summary>
public abstract class InteropServerTest : IAsyncLifetime
{
    private protected TestGrpcServer Server { get; set; } = null!;

    private protected GrpcChannel Channel { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        Server = await StartServerAsync();
        Channel = GrpcChannel.ForAddress(Server.Address);
    }

    public virtual async Task DisposeAsync()
    {
        Channel.Dispose();
        await Server.DisposeAsync();
    }

    private protected static Task<TestGrpcServer> StartServerAsync() =>
        TestGrpcServer.StartAsync(grpc => grpc.AddService<InteropTestService>(TestContract.Service));
}
