using Microservices.Blob.Tests.Support;
using Microservices.TestSupport;

namespace Microservices.Blob.Tests.Service;

/// <summary>A peer nobody here wrote: Debian's grpcio, through the repository's reflection client.</summary>
public sealed class GrpcioPeerTests
{
    private static Task<(int ExitCode, string Output)> ReflectionClientAsync(int port, params string[] args) =>
        Python.RunScriptAsync("reflection_client.py", ["--server_port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. args]);

    [Fact]
    public async Task Grpcio_lists_describes_and_calls_the_blob_service()
    {
        await using var host = await BlobHost.StartAsync();
        var (code, listing) = await ReflectionClientAsync(host.Port, "list");
        Assert.True(code == 0, listing);
        Assert.Contains("microservices.blob.v1.BlobService", listing);

        (code, var described) = await ReflectionClientAsync(host.Port, "describe", "microservices.blob.v1.BlobService");
        Assert.True(code == 0, described);
        Assert.Contains("OffloadTrace", described);
        Assert.Contains("FindMissing", described);
        Assert.Contains("ListBlobs", described);

        // No token: a real peer gets the status and message, not a transport error.
        (code, var called) = await ReflectionClientAsync(host.Port, "call", "microservices.blob.v1.BlobService/FindMissing", "{}");
        Assert.NotEqual(0, code);
        Assert.Contains("UNAUTHENTICATED", called);
        Assert.Contains("bearer token", called, StringComparison.OrdinalIgnoreCase);

        // With alice's token the call goes through.
        var digest = $$"""{"digests": [{"hash": "{{new string('a', 64)}}", "sizeBytes": "5"}]}""";
        (code, called) = await ReflectionClientAsync(host.Port, "call", "-H", "authorization:Bearer " + TestTokens.For("alice"), "microservices.blob.v1.BlobService/FindMissing", digest);
        Assert.True(code == 0, called);
        Assert.Contains(new string('a', 64), called);
    }
}
