using System.Globalization;
using Microservices.TestSupport;

namespace Microservices.Registry.Tests.Grpc;

/// <summary>A real redis-server on a free port, without persistence, for one test class.</summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private readonly ExternalProcess _process;

    private RedisServer(ExternalProcess process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The registry's setting that points its cache at this server.</summary>
    public Dictionary<string, string?> Settings => new() { ["Redis:ConnectionString"] = $"127.0.0.1:{Port},abortConnect=false" };

    public static async Task<RedisServer> StartAsync()
    {
        var port = FreePort.Next();
        var executable = Prerequisite.Executable("redis-server", "apt-get install -y redis-server");
        var process = ExternalProcess.Start(executable, ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
        try
        {
            await process.WaitForPortAsync(port, TimeSpan.FromSeconds(10));
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }

        return new RedisServer(process, port);
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
