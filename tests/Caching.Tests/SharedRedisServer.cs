using Microservices.TestSupport;

namespace Microservices.Caching.Tests;

/// <summary>One server for tests that don't restart or reconfigure it.</summary>
public sealed class SharedRedisServer : IAsyncLifetime
{
    private RedisServer? _server;

    internal RedisServer Server => _server!;

    public async Task InitializeAsync() => _server = await RedisServer.StartAsync();

    public async Task DisposeAsync() => await _server!.DisposeAsync();
}
