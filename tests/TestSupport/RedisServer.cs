namespace Microservices.TestSupport;

/// <summary>A real redis-server on a free port, without persistence, restartable on the same port.</summary>
public sealed class RedisServer : IAsyncDisposable
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

    /// <summary>A service's settings that point its cache tier at this server.</summary>
    public Dictionary<string, string?> Settings => new() { ["Redis:ConnectionString"] = $"{Endpoint},abortConnect=false" };

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
