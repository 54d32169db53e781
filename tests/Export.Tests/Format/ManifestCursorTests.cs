using Microservices.ExportFormat;
using static Microservices.Export.Tests.Format.Rejections;

namespace Microservices.Export.Tests.Format;

public sealed class ManifestCursorTests
{
    [Fact]
    public async Task A_second_read_of_the_same_archive_is_accepted_entry_by_entry()
    {
        using var key = TestArchive.NewKey();
        var archive = new TestArchive(key).Build();
        var verified = await VerifyAsync(archive, key);

        var names = await SecondReadAsync(verified, archive);

        Assert.Equal([.. verified.Manifest.Entries.Select(e => e.Name), ArchiveLayout.ManifestName, ArchiveLayout.SignatureName], names);
    }

    [Fact]
    public async Task An_entry_that_changed_since_verification_is_a_hash_mismatch()
    {
        using var key = TestArchive.NewKey();
        var entries = TestArchive.SampleEntries();
        var verified = await VerifyAsync(new TestArchive(key) { Entries = entries }.Build(), key);
        var models = entries[0].Data.ToArray();
        models[5] ^= 1;
        var changed = new TestArchive(key) { Entries = [(entries[0].Name, models), .. entries.Skip(1)] }.Build();

        var rejected = await AssertRejectedAsync(ArchiveRejection.HashMismatch, () => SecondReadAsync(verified, changed));

        Assert.Equal(entries[0].Name, rejected.EntryName);
        Assert.Contains("the verified manifest says", rejected.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_entry_of_another_size_or_name_than_verified_is_refused()
    {
        using var key = TestArchive.NewKey();
        var entries = TestArchive.SampleEntries();
        var verified = await VerifyAsync(new TestArchive(key) { Entries = entries }.Build(), key);
        var longer = new TestArchive(key) { Entries = [(entries[0].Name, [.. entries[0].Data, 1]), .. entries.Skip(1)] }.Build();
        var skipped = new TestArchive(key) { Entries = [.. entries.Skip(1)] }.Build();

        await AssertRejectedAsync(ArchiveRejection.SizeMismatch, () => SecondReadAsync(verified, longer));
        await AssertRejectedAsync(ArchiveRejection.UnlistedEntry, () => SecondReadAsync(verified, skipped));
    }

    [Fact]
    public async Task A_second_read_that_ends_early_or_goes_on_is_refused()
    {
        using var key = TestArchive.NewKey();
        // ECDSA signatures differ each time: the longer archive must carry the very signature verified.
        byte[]? signature = null;
        Func<byte[], byte[]> sameSignature = json => signature ??= json;
        var verified = await VerifyAsync(new TestArchive(key) { EditSignatureJson = sameSignature }.Build(), key);
        var shorter = new TestArchive(key) { WithSignature = false }.Build();
        var longer = new TestArchive(key) { EditSignatureJson = sameSignature, AfterSignature = [(ArchiveLayout.ModelsPage(1), [1])] }.Build();

        Assert.Equal(ArchiveLayout.SignatureName, (await AssertRejectedAsync(ArchiveRejection.MissingEntry, () => SecondReadAsync(verified, shorter))).EntryName);
        await AssertRejectedAsync(ArchiveRejection.UnlistedEntry, () => SecondReadAsync(verified, longer));
    }

    private static async Task<List<string>> SecondReadAsync(VerifiedArchive verified, byte[] archive)
    {
        var cursor = new ManifestCursor(verified);
        var names = new List<string>();
        await using var reader = new ArchiveReader(new MemoryStream(archive), ArchiveLimits.Default);
        while (await reader.ReadNextAsync() is { } entry)
        {
            using (entry)
            {
                cursor.Accept(entry);
                names.Add(entry.Name);
            }
        }

        cursor.Complete();
        Assert.True(cursor.IsComplete);
        return names;
    }
}
