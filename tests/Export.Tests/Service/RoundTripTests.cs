using Grpc.Core;
using Microservices.Blob.V1;
using Microservices.Export.Tests.Support;
using Microservices.Export.V1;
using Microservices.Registry.V1;

namespace Microservices.Export.Tests.Service;

/// <summary>Export from one installation, import into a second, empty one (its own registry, blob, Redis and bucket).</summary>
public sealed class RoundTripTests
{
    [Fact]
    public async Task An_owner_moved_to_another_installation_has_equal_models_and_byte_identical_blobs()
    {
        await using var origin = await ExportSystem.StartAsync();
        var models = await Seed.ModelsAsync(origin, "alice", 30);
        var blobs = await Seed.BlobsAsync(origin, "alice", [1, 4096, 1_000_000, 9 * 1024 * 1024 + 3], sensitive: false);
        var secret = await Seed.BlobsAsync(origin, "alice", [777], seed: 9, sensitive: true);
        var started = await origin.Export.StartExportAsync(new StartExportRequest(), ExportSystem.As("alice"));
        Assert.Equal(JobState.Completed, (await Seed.FinishedAsync(origin, "alice", started.ExportId)).State);
        var url = await origin.Export.GetDownloadUrlAsync(new GetDownloadUrlRequest { ExportId = started.ExportId }, ExportSystem.As("alice"));
        var key = await origin.Export.GetSigningKeyAsync(new GetSigningKeyRequest(), ExportSystem.As("alice"));

        await using var target = await ExportSystem.StartAsync(new(ExportSystem.LoopbackArchiveUrls())
        {
            ["Export:Import:TrustedKeys:0"] = key.PublicKeyPem,
            ["Export:Import:RequireSignature"] = "true",
        });

        var dry = await target.Export.StartImportAsync(new StartImportRequest { ArchiveUrl = url.Url, DryRun = true }, ExportSystem.As("alice2"));
        var dryDone = await Seed.ImportFinishedAsync(target, "alice2", dry.ImportId);
        Assert.Equal(JobState.Completed, dryDone.State);
        Assert.True(dryDone.Report.SignatureVerified);
        Assert.Equal(30, dryDone.Report.ModelsImported);
        Assert.Empty(await Seed.ListModelsAsync(target, "alice2"));

        var run = await target.Export.StartImportAsync(new StartImportRequest { ArchiveUrl = url.Url }, ExportSystem.As("alice2"));
        var done = await Seed.ImportFinishedAsync(target, "alice2", run.ImportId);
        Assert.True(done.State == JobState.Completed, done.Error?.Message);
        Assert.Equal(30, done.Report.ModelsImported);
        Assert.Equal(5, done.Report.BlobsUploaded);
        Assert.Equal(5, done.Report.ReferencesAdded);

        var imported = await Seed.ListModelsAsync(target, "alice2");
        Assert.Equal(Comparable(models), Comparable(imported));
        foreach (var (digest, data) in blobs.Concat(secret))
        {
            using var call = target.Blob.Download(new Blob.V1.DownloadRequest { Digest = digest }, ExportSystem.As("alice2"));
            using var copy = new MemoryStream();
            await foreach (var chunk in call.ResponseStream.ReadAllAsync())
            {
                chunk.Data.WriteTo(copy);
            }

            Assert.Equal(data, copy.ToArray());
        }

        var secretInfo = await target.Blob.StatAsync(new StatRequest { Digest = secret[0].Digest }, ExportSystem.As("alice2"));
        Assert.True(secretInfo.Encrypted);

        // The same archive again changes nothing.
        var again = await target.Export.StartImportAsync(new StartImportRequest { ArchiveUrl = url.Url }, ExportSystem.As("alice2"));
        var twice = await Seed.ImportFinishedAsync(target, "alice2", again.ImportId);
        Assert.Equal(JobState.Completed, twice.State);
        Assert.Equal(0, twice.Report.ModelsImported);
        Assert.Equal(30, twice.Report.ModelsUnchanged);
        Assert.Equal(0, twice.Report.BlobsUploaded);
        Assert.Equal(0, twice.Report.ReferencesAdded);
        Assert.Equal(imported.Select(m => m.Version), (await Seed.ListModelsAsync(target, "alice2")).Select(m => m.Version));
    }

    private static List<string> Comparable(IEnumerable<Model> models) => [.. models
        .Select(m => new Model(m) { Owner = "", Version = 0 })
        .Select(m => m.ToString())
        .Order(StringComparer.Ordinal)];
}
