using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Microservices.Export.Tests.Support;
using Microservices.Export.V1;
using Microservices.ExportFormat;

namespace Microservices.Export.Tests.Service;

public sealed class ExportFlowTests
{
    [Fact]
    public async Task An_export_holds_the_owners_models_blobs_and_references_in_a_signed_archive()
    {
        await using var system = await ExportSystem.StartAsync();
        var models = await Seed.ModelsAsync(system, "alice", 12);
        var blobs = await Seed.BlobsAsync(system, "alice", [10, 2000, 300_000, 5 * 1024 * 1024 + 17]);
        await Seed.ModelsAsync(system, "bob", 3, prefix: "b");

        var started = await system.Export.StartExportAsync(new StartExportRequest(), ExportSystem.As("alice"));
        var job = await Seed.FinishedAsync(system, "alice", started.ExportId);

        Assert.Equal(JobState.Completed, job.State);
        Assert.Equal(12, job.Archive.Models);
        Assert.Equal(4, job.Archive.Blobs);
        Assert.Equal(4, job.Archive.References);
        Assert.True(job.PeakMemoryBytes > 0);
        Assert.NotNull(job.Duration);

        var archive = await ExportCalls.DownloadAsync(system.Export, "alice", started.ExportId);
        Assert.Equal(job.Archive.SizeBytes, archive.Length);
        var entries = ReadAll(archive);
        var manifest = ArchiveManifest.Parse(entries[ArchiveLayout.ManifestName]);
        Assert.Equal("alice", manifest.Owner);
        Assert.Equal(job.Archive.ManifestSha256, Convert.ToHexStringLower(SHA256.HashData(entries[ArchiveLayout.ManifestName])));
        foreach (var (digest, data) in blobs)
        {
            var chunks = ArchiveLayout.ChunkCount(data.Length);
            var bytes = Enumerable.Range(0, chunks).SelectMany(c => entries[ArchiveLayout.Data(digest.Hash, data.Length, c)]).ToArray();
            Assert.Equal(data, bytes);
        }

        var key = await system.Export.GetSigningKeyAsync(new GetSigningKeyRequest(), ExportSystem.As("alice"));
        using var publicKey = SigningKeys.ImportPublicKeyPem(key.PublicKeyPem);
        Assert.True(SigningKeys.Verify(publicKey, entries[ArchiveLayout.ManifestName], ManifestSignature.Parse(entries[ArchiveLayout.SignatureName])));
        var modelLines = entries.Where(e => e.Key.StartsWith("models/", StringComparison.Ordinal)).SelectMany(e => System.Text.Encoding.UTF8.GetString(e.Value).Split('\n', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.Equal(models.Count, modelLines.Count);
        Assert.DoesNotContain(modelLines, l => l.Contains("\"b/repo", StringComparison.Ordinal));
    }

    private static Dictionary<string, byte[]> ReadAll(byte[] archive)
    {
        var entries = new Dictionary<string, byte[]>();
        using var gzip = new GZipStream(new MemoryStream(archive), CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        while (tar.GetNextEntry() is { } entry)
        {
            using var copy = new MemoryStream();
            entry.DataStream?.CopyTo(copy);
            entries.Add(entry.Name, copy.ToArray());
        }

        return entries;
    }
}
