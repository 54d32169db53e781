using Microservices.Export.Tests.Support;
using Microservices.TestSupport;

namespace Microservices.Export.Tests.Cli;

/// <summary>The `export` CLI against a real installation: start and watch, download, verify offline, dry-run and run an import.</summary>
public sealed class CliEndToEndTests
{
    [Fact]
    public async Task Export_watch_download_verify_and_import_through_the_cli()
    {
        await using var system = await ExportSystem.StartAsync();
        await Seed.ModelsAsync(system, "dave", 4);
        await Seed.BlobsAsync(system, "dave", [100, 5_000_000]);
        using var directory = new TempDirectory();
        var address = $"http://127.0.0.1:{system.ExportPort}";
        string TokenFile(string owner)
        {
            var path = Path.Combine(directory.Path, owner + ".token");
            File.WriteAllText(path, TestTokens.For(owner));
            return path;
        }

        var dave = TokenFile("dave");
        var erin = TokenFile("erin");
        string[] As(params string[] args) => [.. args, "--address", address, "--token-file", dave];

        var start = await CliRun.RunAsync(As("start", "--watch"));
        Assert.True(start.Exit == 0, start.Error);
        var exportId = start.Output.Trim().Split('\n')[0].Trim();
        Assert.Matches("^[0-9a-f]{32}$", exportId);
        Assert.Contains("completed", start.Error, StringComparison.OrdinalIgnoreCase);

        var file = Path.Combine(directory.Path, "dave.tar.gz");
        var download = await CliRun.RunAsync(As("download", exportId, "-o", file));
        Assert.True(download.Exit == 0, download.Error);

        var keyFile = Path.Combine(directory.Path, "installation.pem");
        var key = await CliRun.RunAsync(As("key"));
        Assert.Equal(0, key.Exit);
        await File.WriteAllTextAsync(keyFile, key.Output);

        var verify = await CliRun.RunAsync("verify", file, "--key", keyFile, "--require-signature");
        Assert.True(verify.Exit == 0, verify.Error + verify.Output);
        Assert.Contains("dave", verify.Output + verify.Error);

        // A flipped byte in the middle of the archive: verify says why, and exits 1.
        var bytes = await File.ReadAllBytesAsync(file);
        bytes[bytes.Length / 2] ^= 0x55;
        var broken = Path.Combine(directory.Path, "broken.tar.gz");
        await File.WriteAllBytesAsync(broken, bytes);
        var rejected = await CliRun.RunAsync("verify", broken, "--key", keyFile);
        Assert.Equal(1, rejected.Exit);
        Assert.Contains("rejected", rejected.Output + rejected.Error);

        // Dry run into another owner of this installation, then the real import.
        var dry = await CliRun.RunAsync([.. As("import", file, "--dry-run", "--watch")[..^1], erin]);
        Assert.True(dry.Exit == 0, dry.Error);
        Assert.Empty(await Seed.ListModelsAsync(system, "erin"));
        var run = await CliRun.RunAsync([.. As("import", file, "--watch")[..^1], erin]);
        Assert.True(run.Exit == 0, run.Error);
        Assert.Equal(4, (await Seed.ListModelsAsync(system, "erin")).Count);

        // No token: the service's UNAUTHENTICATED and what to send, exit 1.
        var anonymous = await CliRun.RunAsync("list", "--address", address);
        Assert.Equal(1, anonymous.Exit);
        Assert.Contains("Unauthenticated", anonymous.Error, StringComparison.Ordinal);
        var missing = await CliRun.RunAsync("list", "--address", address, "--token-file", Path.Combine(directory.Path, "absent.token"));
        Assert.Equal(1, missing.Exit);
        Assert.Contains("no token file", missing.Error, StringComparison.Ordinal);
    }
}
