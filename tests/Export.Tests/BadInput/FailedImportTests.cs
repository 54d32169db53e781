using System.Text;
using Google.Protobuf;
using Microservices.Export.Storage;
using Microservices.Export.Tests.Format;
using Microservices.Export.Tests.Support;
using Microservices.Export.V1;
using Microservices.ExportFormat;
using Microservices.Registry.V1;

namespace Microservices.Export.Tests.BadInput;

/// <summary>Valid, signed archives that cannot be imported whole: the import fails and leaves the owner as it was.</summary>
[Collection(nameof(ImportTargetFixture))]
public sealed class FailedImportTests(ImportTargetFixture fixture)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Conflicting_models_are_listed_and_nothing_is_written(bool dryRun)
    {
        var owner = dryRun ? "conflicted-dry" : "conflicted";
        var (taken, aliased) = await ConflictingModelsAsync(owner);
        var before = await OwnerSnapshot.TakeAsync(fixture.System, owner);

        var job = await Archives.ImportAsync(fixture.System, owner, fixture.Export, dryRun);

        if (dryRun)
        {
            // A dry run reports what the import would do, conflicts included, and succeeds.
            Assert.True(job.State == JobState.Completed, $"{job.State}: {job.Error?.Message}");
            Assert.True(job.DryRun);
        }
        else
        {
            Archives.AssertFailed(job, "FAILED_PRECONDITION", "2 model(s) conflict");
            Assert.Contains("nothing was imported", job.Error?.Message, StringComparison.Ordinal);
        }

        AssertConflicts(job.Report, taken, aliased);
        (await OwnerSnapshot.TakeAsync(fixture.System, owner)).AssertSameAs(before);
        Assert.Equal(fixture.Digests.Count, (await OwnerSnapshot.MissingAsync(fixture.System, owner, fixture.Digests)).Count);
    }

    /// <summary>
    /// Signed and consistent (the manifest lists the bytes' real sha256), but a blob's bytes are not
    /// the blob its name and metadata say: the blob service refuses them, and no model or reference may stay imported.
    /// </summary>
    [Fact]
    public async Task A_blob_whose_bytes_are_not_its_digest_fails_the_import_and_leaves_no_model_or_reference()
    {
        const string owner = "forged-blob";
        var forged = fixture.Entries.First(e => e.Name.StartsWith("data/", StringComparison.Ordinal)).Name;
        var archive = new TestArchive(fixture.OriginKey)
        {
            Entries = [.. fixture.Entries.Select(e => e.Name == forged ? (e.Name, e.Data.Select(b => (byte)~b).ToArray()) : e)],
            EditManifest = fixture.AsOrigin,
        };

        var job = await Archives.ImportAsync(fixture.System, owner, archive.Build());

        Archives.AssertFailed(job, "INVALID_ARGUMENT", forged["data/".Length..]);
        await NoModelNorReferenceAsync(owner);
    }

    /// <summary>
    /// The registry refuses the first of 300 model pages (no model_id) while more are still to be
    /// sent: the import ends FAILED naming the model rather than waiting forever to send the rest.
    /// </summary>
    [Fact]
    public async Task An_invalid_model_fails_the_import_INVALID_ARGUMENT_naming_it()
    {
        const string owner = "invalid-model";
        var pages = Enumerable.Range(0, 300).Select(i => (ArchiveLayout.ModelsPage(i + 1), Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(new Model
        {
            ModelId = i == 0 ? "" : $"hf.co/pages/model-{i}.gguf",
            SourceType = SourceType.Huggingface,
            AuthorRepo = "pages/repo",
            Branch = "main",
            ConfigPath = $"models/page-{i}.yaml",
        }) + "\n"))).ToList();
        var archive = new TestArchive(fixture.OriginKey)
        {
            Entries = pages,
            EditManifest = m => m with { Owner = ImportTargetFixture.Origin, Counts = new ArchiveCounts(pages.Count, 0, 0, 0) },
        };

        var job = await Archives.ImportAsync(fixture.System, owner, archive.Build());

        Archives.AssertFailed(job, "INVALID_ARGUMENT", "models[0]");
        (await OwnerSnapshot.TakeAsync(fixture.System, owner)).AssertEmpty();
    }

    /// <summary>A reference to a blob neither the archive nor the owner holds is refused before any model is committed.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_reference_to_a_blob_nobody_holds_fails_the_import_INVALID_ARGUMENT_and_nothing_is_referenced(bool dryRun)
    {
        var owner = dryRun ? "dangling-dry" : "dangling";
        var dangling = new string('d', 64);
        var extra = JsonFormatter.Default.Format(new Blob.V1.Reference { TraceId = "trace-x", EventId = "image-9", Digest = new Blob.V1.Digest { Hash = dangling, SizeBytes = 10 } }) + "\n";
        var archive = new TestArchive(fixture.OriginKey)
        {
            Entries = [.. fixture.Entries.Select(e => ArchiveLayout.KindOf(e.Name) == ArchiveEntryKind.References ? (e.Name, [.. e.Data, .. Encoding.UTF8.GetBytes(extra)]) : e)],
            EditManifest = fixture.AsOrigin,
        };

        var job = await Archives.ImportAsync(fixture.System, owner, archive.Build(), dryRun);

        Archives.AssertFailed(job, "INVALID_ARGUMENT", $"reference (trace_id 'trace-x', event_id 'image-9') names blob sha256:{dangling}");
        var after = await NoModelNorReferenceAsync(owner);
        if (dryRun)
        {
            Assert.Empty(after.Blobs);
        }
    }

    /// <summary>
    /// An archive_url is fetched once, into the bucket, and every read after that reads the copy: a
    /// source that changes (or a presigned link that expires) after the first request does not matter,
    /// and the copy is deleted once the import ends.
    /// </summary>
    [Fact]
    public async Task An_archive_url_is_fetched_once_and_its_copy_deleted_when_the_import_ends()
    {
        const string owner = "url-fetched-once";
        var models = fixture.Entries[0];
        var lines = Encoding.UTF8.GetString(models.Data).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(ImportTargetFixture.Models, lines.Length);
        byte[] Page(IEnumerable<string> page) => Encoding.UTF8.GetBytes(string.Concat(page.Select(l => l + "\n")));
        List<(string, byte[])> Entries(string lastLine) =>
            [(ArchiveLayout.ModelsPage(1), Page(lines[..^1])), (ArchiveLayout.ModelsPage(2), Page([lastLine])), .. fixture.Entries.Skip(1)];
        var original = new TestArchive(fixture.OriginKey) { Entries = Entries(lines[^1]), EditManifest = fixture.AsOrigin }.Build();
        var changed = new TestArchive(fixture.OriginKey) { Entries = Entries(lines[^1].Replace("models/", "changed/", StringComparison.Ordinal)), EditManifest = fixture.AsOrigin }.Build();
        using var server = new ArchiveHttpServer();
        var url = server.ServeInTurn("archive.tar.gz", [original, changed]);

        var started = await fixture.System.Export.StartImportAsync(new StartImportRequest { ArchiveUrl = url }, ExportSystem.As(owner));
        var job = await Seed.ImportFinishedAsync(fixture.System, owner, started.ImportId, TimeSpan.FromMinutes(1));

        Assert.True(job.State == JobState.Completed, $"{job.State}: {job.Error?.Message}");
        Assert.Equal(ImportTargetFixture.Models, job.Report.ModelsImported);
        Assert.Equal(ImportTargetFixture.Models, (await OwnerSnapshot.TakeAsync(fixture.System, owner)).Models.Count);
        Assert.Empty(await FetchedCopiesAsync(owner));
    }

    [Fact]
    public async Task The_copy_of_an_archive_url_is_deleted_when_the_import_fails()
    {
        const string owner = "url-fetched-failed";
        var broken = new TestArchive(fixture.OriginKey)
        {
            Entries = fixture.Entries,
            EditManifest = fixture.AsOrigin,
            Listed = written => [.. written.Select(e => e.Name == fixture.Entries[0].Name ? e with { Sha256 = new string('0', 64) } : e)],
        }.Build();
        using var server = new ArchiveHttpServer();
        var url = server.Serve("broken.tar.gz", broken, chunked: true);

        var started = await fixture.System.Export.StartImportAsync(new StartImportRequest { ArchiveUrl = url }, ExportSystem.As(owner));
        var job = await Seed.ImportFinishedAsync(fixture.System, owner, started.ImportId, TimeSpan.FromMinutes(1));

        Archives.AssertFailed(job, "INVALID_ARGUMENT", $"entry '{fixture.Entries[0].Name}' has sha256");
        Assert.Empty(await FetchedCopiesAsync(owner));
    }

    private Task<IReadOnlyList<string>> FetchedCopiesAsync(string owner) =>
        fixture.System.ExportService<IArchiveStorage>().ListOlderThanAsync($"{ArchiveKeys.ImportsPrefix}{owner}/", DateTimeOffset.UtcNow.AddDays(1), CancellationToken.None);

    /// <summary>The owner registers the origin's first model id with other fields, and another model under the origin's second model's alias.</summary>
    private async Task<(Model Taken, Model Aliased)> ConflictingModelsAsync(string owner)
    {
        var origin = await Seed.ListModelsAsync(fixture.System, ImportTargetFixture.Origin);
        var taken = origin[0];
        var aliased = origin[1];
        await fixture.System.Registry.RegisterAsync(new RegisterModelRequest
        {
            Owner = owner,
            ModelId = taken.ModelId,
            SourceType = taken.SourceType,
            AuthorRepo = taken.AuthorRepo,
            Branch = taken.Branch,
            ConfigPath = "models/mine.yaml",
        }, ExportSystem.As(owner));
        await fixture.System.Registry.RegisterAsync(new RegisterModelRequest
        {
            Owner = owner,
            ModelId = "hf.co/mine/other.gguf",
            SourceType = SourceType.Huggingface,
            AuthorRepo = "mine/other",
            Branch = "main",
            ConfigPath = "models/other.yaml",
            Alias = aliased.Alias,
        }, ExportSystem.As(owner));
        await Seed.BlobsAsync(fixture.System, owner, [64], seed: 7);
        return (taken, aliased);
    }

    /// <summary>The owner has no model and no reference; blobs the import uploaded before it failed are the archive's, unreferenced (garbage collection removes them).</summary>
    private async Task<OwnerSnapshot> NoModelNorReferenceAsync(string owner)
    {
        var after = await OwnerSnapshot.TakeAsync(fixture.System, owner);
        Assert.Empty(after.Models);
        Assert.Empty(after.References);
        Assert.Subset(fixture.Digests.Select(d => $"{d.Hash}/{d.SizeBytes}").ToHashSet(), after.Blobs.ToHashSet());
        return after;
    }

    private static void AssertConflicts(ImportReport report, Model taken, Model aliased)
    {
        Assert.Equal(2, report.ConflictCount);
        Assert.Equal(2, report.Conflicts.Count);
        var exists = Assert.Single(report.Conflicts, c => c.Kind == Export.V1.ConflictKind.ModelExists);
        Assert.Equal(taken.ModelId, exists.ModelId);
        Assert.False(string.IsNullOrEmpty(exists.Message));
        var alias = Assert.Single(report.Conflicts, c => c.Kind == Export.V1.ConflictKind.AliasTaken);
        Assert.Equal(aliased.ModelId, alias.ModelId);
        Assert.Equal(aliased.Alias, alias.Alias);
    }
}
