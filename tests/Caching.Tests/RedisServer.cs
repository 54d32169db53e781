using Microservices.TestSupport;

namespace Microservices.Caching.Tests;

/// <summary>A real redis-server on a free port, restartable on the same port.</summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private readonly string[] _extraArgs;
    private ExternalProcess? _process;

    private RedisServer(int port, string[] extraArgs)
    {
        Port = port;
        _extraArgs = extraArgs;
    }

    public int Port { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync(params string[] extraArgs)
    {
        var server = new RedisServer(FreePort.Next(), extraArgs);
        await server.StartAgainAsync();
        return server;
    }

    public async Task StartAgainAsync()
    {
        var executable = Prerequisite.Executable("redis-server", "apt-get install -y redis-server");
        _process = ExternalProcess.Start(
            executable,
            ["--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--enable-debug-command", "yes", .. _extraArgs]);
        await _process.WaitForPortAsync(Port, TimeSpan.FromSeconds(10));
    }

    public async Task StopAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
            _process = null;
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}

/// <summary>One server for tests that don't restart or reconfigure it.</summary>
public sealed class SharedRedisServer : IAsyncLifetime
{
    private RedisServer? _server;

    internal RedisServer Server => _server!;

    public async Task InitializeAsync() => _server = await RedisServer.StartAsync();

    public async Task DisposeAsync() => await _server!.DisposeAsync();
}
