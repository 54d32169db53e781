using System.Collections.Concurrent;
using System.Globalization;
using Grpc.Core;
using Microservices.Clients;
using Microservices.Registry.V1;
using Microservices.TestSupport;

namespace Microservices.Registry.Tests.Grpc;

/// <summary>
/// The registry as a separate OS process (the built Microservices.Registry.dll), configured
/// through environment variables as ./dev up and the chart do.
/// </summary>
public sealed class DurabilityTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Every_acknowledged_register_survives_kill_9_mid_burst()
    {
        var port = FreePort.Next();
        var acknowledged = new ConcurrentBag<string>();
        await using (var first = await StartAsync(port))
        {
            using var channel = GrpcChannels.Create($"http://127.0.0.1:{port}");
            var client = RegistryHost.ClientOver(channel);
            using var stop = new CancellationTokenSource();
            var next = 0;
            var writers = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var id = $"burst/model-{Interlocked.Increment(ref next):D6}.gguf";
                    try
                    {
                        await client.RegisterAsync(Rpc.NewModel("alice", id), deadline: DateTime.UtcNow.AddSeconds(10));
                        acknowledged.Add(id);
                    }
                    catch (RpcException)
                    {
                        // In flight when the process died: not acknowledged, may or may not be there.
                        return;
                    }
                }
            })).ToList();

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (acknowledged.Count < 300 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(10);
            }

            first.Kill(); // SIGKILL: no shutdown, no flush, no checkpoint.
            stop.Cancel();
            await Task.WhenAll(writers);
        }

        Assert.True(acknowledged.Count >= 50, $"only {acknowledged.Count} writes were acknowledged before the kill");

        await using var second = await StartAsync(port);
        using var reconnected = GrpcChannels.Create($"http://127.0.0.1:{port}");
        var again = RegistryHost.ClientOver(reconnected);
        var integrity = await again.CheckIntegrityAsync(new CheckIntegrityRequest(), Rpc.Admin);
        Assert.True(integrity.Ok, string.Join("\n", integrity.Messages));

        var stored = new HashSet<string>(StringComparer.Ordinal);
        var token = "";
        do
        {
            var page = await again.ListAsync(new ListModelsRequest { Owner = "alice", PageSize = 500, PageToken = token }, Rpc.Timeout);
            stored.UnionWith(page.Models.Select(m => m.ModelId));
            token = page.NextPageToken;
        }
        while (token.Length > 0);

        var lost = acknowledged.Where(id => !stored.Contains(id)).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} of {acknowledged.Count} acknowledged writes are gone, e.g. {string.Join(", ", lost.Take(5))}");
    }

    [Fact]
    public async Task A_corrupt_database_ends_the_process_with_a_clear_error_and_exit_code_1()
    {
        var data = _directory.File("data");
        Directory.CreateDirectory(data);
        var database = Path.Combine(data, "registry.db");
        var garbage = new byte[8192];
        new Random(5).NextBytes(garbage);
        await File.WriteAllBytesAsync(database, garbage);

        var (exitCode, output) = await ExternalProcess.RunAsync(
            Dotnet, [RegistryDll], TimeSpan.FromSeconds(60), environment: Environment(FreePort.Next(), data));

        Assert.Equal(1, exitCode);
        Assert.Contains("registry: refusing to start:", output);
        Assert.Contains(database, output);
        Assert.DoesNotContain("Unhandled exception", output);
        Assert.Equal(garbage, await File.ReadAllBytesAsync(database));
    }

    private static string Dotnet => Prerequisite.Executable("dotnet", "install the .NET SDK");

    /// <summary>The service's own build output (built with this test project, same configuration).</summary>
    private static string RegistryDll
    {
        get
        {
            var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name; // bin/<Configuration>/net10.0
            var dll = RepositoryPaths.File("services", "Registry", "bin", configuration, "net10.0", "Microservices.Registry.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException($"{dll} not found; build services/Registry first.");
        }
    }

    private Dictionary<string, string> Environment(int port, string? dataDirectory = null) => new(
        TestTokens.Settings().Select(s => KeyValuePair.Create(s.Key.Replace(":", "__", StringComparison.Ordinal), s.Value!)))
    {
        ["DataDirectory"] = dataDirectory ?? _directory.Path,
        ["Redis__ConnectionString"] = "",
        ["Kestrel__Endpoints__Grpc__Url"] = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}",
        ["OTEL_SDK_DISABLED"] = "true",
    };

    private async Task<ExternalProcess> StartAsync(int port)
    {
        var process = ExternalProcess.Start(Dotnet, [RegistryDll], environment: Environment(port));
        try
        {
            await process.WaitForPortAsync(port, TimeSpan.FromSeconds(60));
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }

        return process;
    }
}
