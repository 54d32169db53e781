using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Microservices.Export.Tests.Format;
using Microservices.Export.Tests.Support;
using Microservices.Export.V1;
using Microservices.ExportFormat;

namespace Microservices.Export.Tests.BadInput;

/// <summary>
/// Archives built from a real export's entries and then broken, uploaded and imported: each import
/// fails INVALID_ARGUMENT naming what is wrong, and the owner it was imported into holds nothing.
/// </summary>
[Collection(nameof(ImportTargetFixture))]
public sealed class HostileArchiveTests(ImportTargetFixture fixture)
{
    public static TheoryData<string, string> Cases => new()
    {
        { "corrupt-gzip", "the gzip data is corrupt" },
        { "truncated", "it is truncated" },
        { "dot-dot", "entry '../x' has an unsafe name: '..' is not allowed" },
        { "absolute", "entry '/etc/passwd' has an unsafe name: it is absolute" },
        { "symlink", "is a symbolic link; only regular files are allowed" },
        { "hard-link", "is a hard link; only regular files are allowed" },
        { "device", "is a character device; only regular files are allowed" },
        { "duplicate", "entry 'models/000001.jsonl' appears twice in the archive" },
        { "hash-mismatch", "entry 'models/000001.jsonl' has sha256" },
        { "bad-signature", "does not verify with key" },
        { "untrusted-signer", "which is not one of the 2 trusted keys" },
        { "newer-format", "format version 2, newer than the 1 this reader knows" },
        { "decompression-bomb", "refused as a decompression bomb" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_hostile_archive_fails_INVALID_ARGUMENT_naming_the_problem_and_writes_nothing(string hostile, string problem)
    {
        var owner = $"hostile-{hostile}";

        var job = await Archives.ImportAsync(fixture.System, owner, Build(hostile));

        Archives.AssertFailed(job, "INVALID_ARGUMENT", problem);
        (await OwnerSnapshot.TakeAsync(fixture.System, owner)).AssertEmpty();
        Assert.Equal(fixture.Digests.Count, (await OwnerSnapshot.MissingAsync(fixture.System, owner, fixture.Digests)).Count);
    }

    /// <summary>The same entries, unbroken, do import: what the cases above refuse is only what breaks them.</summary>
    [Fact]
    public async Task The_unbroken_rebuild_imports_everything()
    {
        const string owner = "hostile-control";

        var job = await Archives.ImportAsync(fixture.System, owner, fixture.Rebuild().Build());

        Assert.True(job.State == JobState.Completed, job.Error?.Message);
        Assert.True(job.Report.SignatureVerified);
        Assert.Equal(ImportTargetFixture.Models, job.Report.ModelsImported);
        Assert.Equal(fixture.Digests.Count, job.Report.BlobsUploaded);
        Assert.Equal(fixture.Digests.Count, job.Report.ReferencesAdded);
        var imported = await OwnerSnapshot.TakeAsync(fixture.System, owner);
        Assert.Equal(ImportTargetFixture.Models, imported.Models.Count);
        Assert.Equal(fixture.Digests.Count, imported.Blobs.Count);
        Assert.Equal(fixture.Digests.Count, imported.References.Count);
    }

    private byte[] Build(string hostile)
    {
        var models = fixture.Entries[0];
        Assert.Equal(ArchiveEntryKind.Models, ArchiveLayout.KindOf(models.Name));
        var blobData = fixture.Entries.First(e => e.Name.StartsWith("data/", StringComparison.Ordinal)).Name;
        switch (hostile)
        {
            case "corrupt-gzip":
            {
                var parts = PartPerEntry();
                parts[0][parts[0].Length / 2] ^= 0x55;
                return [.. parts.SelectMany(p => p)];
            }

            case "truncated":
            {
                // Data entries are stored, not compressed: cutting the largest one's part in half cuts the entry.
                var parts = PartPerEntry();
                var largest = Enumerable.Range(0, fixture.Entries.Count).MaxBy(i => fixture.Entries[i].Data.Length);
                return [.. parts.Take(largest).SelectMany(p => p), .. parts[largest].Take(parts[largest].Length / 2)];
            }

            case "dot-dot":
                return Tar(models, RawTar.File("../x", models.Data));
            case "absolute":
                return Tar(models, RawTar.File("/etc/passwd", models.Data));
            case "symlink":
                return Tar(models, new PaxTarEntry(TarEntryType.SymbolicLink, blobData) { LinkName = "/etc/passwd" });
            case "hard-link":
                return Tar(models, new PaxTarEntry(TarEntryType.HardLink, blobData) { LinkName = models.Name });
            case "device":
                return Tar(models, new PaxTarEntry(TarEntryType.CharacterDevice, blobData));
            case "duplicate":
                return Tar(models, RawTar.File(models.Name, models.Data));
            case "hash-mismatch":
                return new TestArchive(fixture.OriginKey)
                {
                    Entries = fixture.Entries,
                    EditManifest = fixture.AsOrigin,
                    Listed = written => [.. written.Select(e => e.Name == models.Name ? e with { Sha256 = new string('0', 64) } : e)],
                }.Build();
            case "bad-signature":
                return new TestArchive(fixture.OriginKey)
                {
                    Entries = fixture.Entries,
                    EditManifest = fixture.AsOrigin,
                    TamperManifestJson = Replace("\"owner\":\"origin\"", "\"owner\":\"victim\""),
                }.Build();
            case "untrusted-signer":
            {
                using var stranger = TestArchive.NewKey();
                return new TestArchive(stranger) { Entries = fixture.Entries, EditManifest = fixture.AsOrigin }.Build();
            }

            case "newer-format":
                return new TestArchive(fixture.OriginKey)
                {
                    Entries = fixture.Entries,
                    EditManifest = m => fixture.AsOrigin(m) with { FormatVersion = ArchiveLayout.FormatVersion + 1 },
                }.Build();
            case "decompression-bomb":
                return Bomb();
            default:
                throw new ArgumentOutOfRangeException(nameof(hostile), hostile, null);
        }
    }

    private List<byte[]> PartPerEntry() => new TestArchive(fixture.OriginKey) { Entries = fixture.Entries, EditManifest = fixture.AsOrigin, PartPerEntry = true }.BuildParts();

    /// <summary>The real models page, then the hostile entry, then the rest of the real archive's entries.</summary>
    private byte[] Tar((string Name, byte[] Data) models, TarEntry hostile) => RawTar.WithTarWriter(tar =>
    {
        tar.WriteEntry(RawTar.File(models.Name, models.Data));
        tar.WriteEntry(hostile);
        foreach (var (name, data) in fixture.Entries.Skip(1))
        {
            tar.WriteEntry(RawTar.File(name, data));
        }
    });

    private static Func<byte[], byte[]> Replace(string from, string to) => json =>
    {
        var text = Encoding.UTF8.GetString(json);
        Assert.Contains(from, text, StringComparison.Ordinal);
        return Encoding.UTF8.GetBytes(text.Replace(from, to, StringComparison.Ordinal));
    };

    /// <summary>256 MiB of zeros in well-formed tar entries, in about 300 KB of gzip.</summary>
    private static byte[] Bomb()
    {
        const int entryBytes = 4 * 1024 * 1024;
        var zeros = RawTar.Gzip(new byte[entryBytes], CompressionLevel.SmallestSize);
        using var bomb = new MemoryStream();
        for (var i = 0; i < 64; i++)
        {
            bomb.Write(RawTar.Gzip(RawTar.Header($"data/{i:x64}", '0', entryBytes)));
            bomb.Write(zeros);
        }

        bomb.Write(RawTar.Gzip(RawTar.EndMarker));
        return bomb.ToArray();
    }
}
