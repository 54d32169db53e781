using System.Text;
using Microservices.Blob.Tests.Support;
using Microservices.TestSupport;

namespace Microservices.Blob.Tests.Service;

/// <summary>blobctl as a person runs it: a separate process against a running service.</summary>
public sealed class CliTests : IAsyncLifetime
{
    private BlobHost _host = null!;
    private readonly TempDirectory _files = new();

    public async Task InitializeAsync() => _host = await BlobHost.StartAsync();

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _files.Dispose();
    }

    private async Task<string> BlobctlAsync(params string[] args)
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var dll = Path.Combine(RepositoryPaths.Root, "services", "Blob.Cli", "bin", configuration, "net10.0", "blobctl.dll");
        Prerequisite.File(dll, "dotnet build services/Blob.Cli");
        var (code, output) = await ExternalProcess.RunAsync("dotnet", [dll, "--address", $"http://127.0.0.1:{_host.Port}", "--owner", "carol", .. args], TimeSpan.FromMinutes(2));
        Assert.True(code == 0, $"blobctl {string.Join(' ', args)} exited {code}:\n{output}");
        return output;
    }

    [Fact]
    public async Task Put_stat_get_offload_and_hydrate()
    {
        var data = TestData.Random(9 * 1024 * 1024 + 3, seed: 50);
        var file = _files.File("big.bin");
        await File.WriteAllBytesAsync(file, data);
        var put = await BlobctlAsync("put", file, "--label", "run=7");
        var hash = TestData.Sha256Hex(data);
        Assert.Contains($"{hash} {data.Length}", put);

        var stat = await BlobctlAsync("stat", hash, data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("application/octet-stream", stat);
        Assert.Contains("label:       run=7", stat);

        var copy = _files.File("copy.bin");
        await BlobctlAsync("get", hash, data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), "-o", copy);
        Assert.Equal(data, await File.ReadAllBytesAsync(copy));

        var png = TestData.Png(50, 40, seed: 51);
        var trace = Encoding.UTF8.GetBytes($"# run\n![a](data:image/png;base64,{Convert.ToBase64String(png)})\n![b](data:image/png;base64,{Convert.ToBase64String(png)})\n");
        var tracePath = _files.File("trace.md");
        await File.WriteAllBytesAsync(tracePath, trace);
        var offload = await BlobctlAsync("offload", tracePath, "--trace-id", "run-7", "--gateway", $"http://127.0.0.1:{_host.GatewayPort}");
        Assert.Contains($"uploaded {png.Length} bytes", offload);
        var again = await BlobctlAsync("offload", tracePath, "--trace-id", "run-7");
        Assert.Contains("uploaded 0 bytes", again);

        var slim = _files.File("trace.slim.md");
        Assert.DoesNotContain("base64", await File.ReadAllTextAsync(slim));
        await BlobctlAsync("hydrate", slim, "-o", _files.File("back.md"));
        Assert.Equal(trace, await File.ReadAllBytesAsync(_files.File("back.md")));
    }

    [Fact]
    public async Task Errors_are_one_line_with_the_status()
    {
        var dll = Path.Combine(RepositoryPaths.Root, "services", "Blob.Cli", "bin", AppContext.BaseDirectory.Contains("Release", StringComparison.Ordinal) ? "Release" : "Debug", "net10.0", "blobctl.dll");
        var (code, output) = await ExternalProcess.RunAsync("dotnet", [dll, "--address", $"http://127.0.0.1:{_host.Port}", "--owner", "carol", "stat", new string('a', 64), "5"], TimeSpan.FromMinutes(1));
        Assert.Equal(1, code);
        Assert.Contains("blobctl: NotFound: blob sha256:", output);
        Assert.DoesNotContain("   at ", output);
    }
}
