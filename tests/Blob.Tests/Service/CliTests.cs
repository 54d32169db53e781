using System.Text;
using Microservices.Blob.Tests.Support;
using Microservices.TestSupport;

namespace Microservices.Blob.Tests.Service;

/// <summary>blobctl as a person runs it: a separate process (Support/Blobctl) against a running service.</summary>
public sealed class CliTests : IAsyncLifetime
{
    private BlobHost _host = null!;
    private readonly TempDirectory _files = new();

    public async Task InitializeAsync()
    {
        _host = await BlobHost.StartAsync();
        await File.WriteAllTextAsync(TokenFile, TestTokens.For("carol") + "\n");
    }

    /// <summary>carol's token, as a person keeps it: in a file blobctl is pointed at.</summary>
    private string TokenFile => _files.File("carol.token");

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _files.Dispose();
    }

    private Task<string> BlobctlAsync(params string[] args) => Blobctl.SucceedsAsync(_host.Port, TokenFile, args);

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
        Assert.Contains("offloaded 2 of 2 data URIs", offload);
        Assert.Contains("stored 1 new blob(s)", offload);
        var slim = _files.File("trace.slim.md");
        var link = System.Text.RegularExpressions.Regex.Match(await File.ReadAllTextAsync(slim), @"http://127\.0\.0\.1:\d+/blobs/sha256/[^)\s]+").Value;

        // The links are the service's, signed for this owner: a browser with no token opens them.
        Assert.Contains("&c=", link);
        using (var browser = new HttpClient())
        {
            Assert.Equal(png, await browser.GetByteArrayAsync(new Uri(link)));
        }

        var again = await BlobctlAsync("offload", tracePath, "--trace-id", "run-7");
        Assert.Contains("stored 0 new blob(s)", again);
        Assert.DoesNotContain("base64", await File.ReadAllTextAsync(slim));
        await BlobctlAsync("hydrate", slim, "-o", _files.File("back.md"));
        Assert.Equal(trace, await File.ReadAllBytesAsync(_files.File("back.md")));
    }

    [Fact]
    public async Task A_put_whose_connection_is_reset_mid_upload_resumes_and_completes()
    {
        var data = TestData.Random(9 * 1024 * 1024 + 5, seed: 52);
        var file = _files.File("reset.bin");
        await File.WriteAllBytesAsync(file, data);

        // The transport's reset surfaces from a write as an IOException, not an RpcException: still a broken call to resume.
        await using var relay = TcpRelay.Start([_host.Port], cutFirstAfterBytes: 3 * 1024 * 1024);
        var put = await Blobctl.SucceedsAsync(relay.Port, TokenFile, "put", file);

        Assert.Contains($"{TestData.Sha256Hex(data)} {data.Length}", put);
        Assert.True(relay.Connections >= 2, $"the upload was never cut off ({relay.Connections} connection)");
        Assert.Equal(data, await new BlobClient(_host.Channel, "carol").DownloadAsync(BlobClient.D(data)));
    }

    [Fact]
    public async Task Errors_are_one_line_with_the_status()
    {
        var (code, output) = await Blobctl.RunAsync(_host.Port, TokenFile, "stat", new string('a', 64), "5");
        Assert.Equal(1, code);
        Assert.Contains("blobctl: NotFound: blob sha256:", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task Without_a_token_the_service_says_unauthenticated()
    {
        var (code, output) = await Blobctl.RunAsync(_host.Port, null, "stat", new string('a', 64), "5");
        Assert.Equal(1, code);
        Assert.Contains("blobctl: Unauthenticated:", output);
    }
}
