using System.Text;
using Microservices.ExportFormat;
using static Microservices.Export.Tests.Format.Rejections;

namespace Microservices.Export.Tests.Format;

public sealed class ArchiveVerifierTests
{
    [Fact]
    public async Task A_valid_signed_archive_verifies()
    {
        using var key = TestArchive.NewKey();
        var archive = new TestArchive(key);
        var bytes = archive.Build();

        var verified = await VerifyAsync(bytes, key);

        Assert.True(verified.SignatureVerified);
        Assert.Equal(SigningKeys.KeyId(key), verified.SigningKeyId);
        Assert.Equal(archive.Entries.Select(e => e.Name), verified.Manifest.Entries.Select(e => e.Name));
        Assert.Equal("alice", verified.Manifest.Owner);
        Assert.Equal(bytes.Length, verified.CompressedBytes);
        Assert.True(verified.UncompressedBytes > archive.Entries.Sum(e => e.Data.Length));
        Assert.Equal(await ManifestSha256Async(bytes), verified.ManifestSha256);
    }

    [Fact]
    public async Task An_archive_of_many_gzip_members_verifies()
    {
        using var key = TestArchive.NewKey();
        var archive = new TestArchive(key) { PartPerEntry = true };
        var parts = archive.BuildParts();

        var verified = await VerifyAsync([.. parts.SelectMany(p => p)], key);

        Assert.Equal(archive.Entries.Count + 1, parts.Count);
        Assert.True(verified.SignatureVerified);
        Assert.Equal(archive.Entries.Count, verified.Manifest.Entries.Count);
    }

    [Fact]
    public async Task An_untrusted_key_is_refused_when_a_signature_is_required_and_reported_when_not()
    {
        using var key = TestArchive.NewKey();
        using var other = TestArchive.NewKey();
        var archive = new TestArchive(key).Build();

        var rejected = await AssertRejectedAsync(ArchiveRejection.UntrustedKey, () => VerifyAsync(archive, other, requireSignature: true));
        Assert.Contains(SigningKeys.KeyId(key), rejected.Message, StringComparison.Ordinal);

        var unverified = await VerifyAsync(archive, other, requireSignature: false);
        Assert.False(unverified.SignatureVerified);
        Assert.Equal(SigningKeys.KeyId(key), unverified.SigningKeyId);
    }

    [Fact]
    public async Task A_manifest_changed_after_signing_has_a_bad_signature()
    {
        using var key = TestArchive.NewKey();
        var archive = new TestArchive(key) { TamperManifestJson = json => Replace(json, "\"alice\"", "\"alicf\"") }.Build();

        var rejected = await AssertRejectedAsync(ArchiveRejection.BadSignature, () => VerifyAsync(archive, key));

        Assert.Contains("does not verify", rejected.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_changed_signature_is_a_bad_signature_even_when_the_key_is_not_required()
    {
        using var key = TestArchive.NewKey();
        var archive = new TestArchive(key) { EditSignatureJson = FlipSignatureByte }.Build();

        await AssertRejectedAsync(ArchiveRejection.BadSignature, () => VerifyAsync(archive, key));
        await AssertRejectedAsync(ArchiveRejection.BadSignature, () => VerifyAsync(archive, key, requireSignature: false));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"algorithm\":\"ECDSA_P256_SHA256\",\"key_id\":null,\"signature\":\"AAAA\"}")]
    [InlineData("{\"algorithm\":\"RSA\",\"key_id\":\"k\",\"signature\":\"AAAA\"}")]
    [InlineData("{\"algorithm\":\"ECDSA_P256_SHA256\",\"key_id\":\"k\",\"signature\":\"not base64!\"}")]
    [InlineData("{\"algorithm\":\"ECDSA_P256_SHA256\",\"key_id\":\"k\",\"signature\":\"AAAA\"}")]
    public async Task A_malformed_signature_is_a_bad_signature_whatever_the_key(string json)
    {
        using var key = TestArchive.NewKey();
        using var other = TestArchive.NewKey();
        var archive = new TestArchive(key) { EditSignatureJson = _ => Encoding.UTF8.GetBytes(json) }.Build();

        await AssertRejectedAsync(ArchiveRejection.BadSignature, () => VerifyAsync(archive, other, requireSignature: false));
    }

    [Fact]
    public async Task A_signature_by_another_key_than_the_manifest_names_is_a_bad_signature()
    {
        using var key = TestArchive.NewKey();
        using var other = TestArchive.NewKey();
        var archive = new TestArchive(key) { SignWith = other }.Build();

        var rejected = await AssertRejectedAsync(ArchiveRejection.BadSignature, () => VerifyAsync(archive, other));

        Assert.Contains("the manifest says it was signed by", rejected.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_newer_format_version_is_refused_before_its_shape_is_read()
    {
        using var key = TestArchive.NewKey();
        var newer = new TestArchive(key) { EditManifest = m => m with { FormatVersion = ArchiveLayout.FormatVersion + 1 } }.Build();
        var newerShape = new TestArchive(key)
        {
            EditManifestJson = _ => Encoding.UTF8.GetBytes($"{{\"format\":\"{ArchiveLayout.FormatName}\",\"format_version\":{ArchiveLayout.FormatVersion + 1},\"entries\":{{\"new\":true}}}}"),
        }.Build();

        var rejected = await AssertRejectedAsync(ArchiveRejection.NewerFormat, () => VerifyAsync(newer, key));
        await AssertRejectedAsync(ArchiveRejection.NewerFormat, () => VerifyAsync(newerShape, key));

        Assert.Contains($"format version {ArchiveLayout.FormatVersion + 1}, newer than", rejected.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("{\"format\":\"microservices-export\"")]
    [InlineData("{\"format\":\"something-else\",\"format_version\":1}")]
    [InlineData("{\"format\":\"microservices-export\",\"format_version\":0}")]
    [InlineData("{\"format\":\"microservices-export\",\"format_version\":1}")]
    [InlineData("{\"format\":\"microservices-export\",\"format_version\":1,\"export_id\":\"e\",\"owner\":\"o\",\"installation\":\"i\",\"created_at\":\"2025-01-01T00:00:00Z\",\"signing_key_id\":\"k\",\"counts\":{\"models\":0,\"blobs\":0,\"references\":0,\"blob_bytes\":0},\"entries\":null}")]
    [InlineData("{\"format\":\"microservices-export\",\"format_version\":1,\"export_id\":\"e\",\"owner\":\"o\",\"installation\":\"i\",\"created_at\":\"2025-01-01T00:00:00Z\",\"signing_key_id\":\"k\",\"counts\":{\"models\":0,\"blobs\":0,\"references\":0,\"blob_bytes\":0},\"entries\":[null]}")]
    public async Task A_manifest_that_is_not_one_is_a_bad_manifest(string json)
    {
        using var key = TestArchive.NewKey();
        var archive = new TestArchive(key) { EditManifestJson = _ => Encoding.UTF8.GetBytes(json) }.Build();

        await AssertRejectedAsync(ArchiveRejection.BadManifest, () => VerifyAsync(archive, key));
    }

    [Fact]
    public async Task A_manifest_listing_an_entry_twice_is_a_bad_manifest()
    {
        using var key = TestArchive.NewKey();
        var archive = new TestArchive(key) { Listed = written => [.. written, written[0]] }.Build();

        await AssertRejectedAsync(ArchiveRejection.BadManifest, () => VerifyAsync(archive, key));
    }

    [Fact]
    public async Task An_entry_the_manifest_does_not_list_is_refused()
    {
        using var key = TestArchive.NewKey();
        var unlisted = ArchiveLayout.ReferencesPage(0);
        var archive = new TestArchive(key) { Listed = written => [.. written.Where(e => e.Name != unlisted)] }.Build();

        var rejected = await AssertRejectedAsync(ArchiveRejection.UnlistedEntry, () => VerifyAsync(archive, key));

        Assert.Equal($"entry '{unlisted}' is in the archive but not in manifest.json", rejected.Message);
    }

    [Fact]
    public async Task A_listed_entry_missing_from_the_archive_is_refused()
    {
        using var key = TestArchive.NewKey();
        var missing = new ManifestEntry(ArchiveLayout.ModelsPage(1), 10, new string('0', 64));
        var archive = new TestArchive(key) { Listed = written => [.. written, missing] }.Build();

        var rejected = await AssertRejectedAsync(ArchiveRejection.MissingEntry, () => VerifyAsync(archive, key));

        Assert.Equal(missing.Name, rejected.EntryName);
    }

    [Fact]
    public async Task An_archive_without_a_manifest_or_signature_is_missing_it()
    {
        using var key = TestArchive.NewKey();
        var noManifest = new TestArchive(key) { WithManifest = false, WithSignature = false }.Build();
        var noSignature = new TestArchive(key) { WithSignature = false }.Build();

        Assert.Equal(ArchiveLayout.ManifestName, (await AssertRejectedAsync(ArchiveRejection.MissingEntry, () => VerifyAsync(noManifest, key))).EntryName);
        Assert.Equal(ArchiveLayout.SignatureName, (await AssertRejectedAsync(ArchiveRejection.MissingEntry, () => VerifyAsync(noSignature, key))).EntryName);
    }

    [Fact]
    public async Task An_entry_whose_sha256_differs_from_the_manifest_is_refused()
    {
        using var key = TestArchive.NewKey();
        var entries = TestArchive.SampleEntries();
        var changed = entries[3].Name;
        var archive = new TestArchive(key)
        {
            // The manifest is what the writer recorded; the entry's bytes then changed, keeping their size.
            Entries = entries,
            Listed = written => [.. written.Select(e => e.Name == changed ? e with { Sha256 = TestArchive.Sha256(Flip(entries[3].Data)) } : e)],
        }.Build();

        var rejected = await AssertRejectedAsync(ArchiveRejection.HashMismatch, () => VerifyAsync(archive, key));

        Assert.Equal(changed, rejected.EntryName);
    }

    [Fact]
    public async Task An_entry_whose_size_differs_from_the_manifest_is_refused()
    {
        using var key = TestArchive.NewKey();
        var archive = new TestArchive(key) { Listed = written => [.. written.Select((e, i) => i == 1 ? e with { Size = e.Size + 1 } : e)] }.Build();

        await AssertRejectedAsync(ArchiveRejection.SizeMismatch, () => VerifyAsync(archive, key));
    }

    [Fact]
    public async Task Entries_in_another_order_than_listed_are_refused()
    {
        using var key = TestArchive.NewKey();
        var archive = new TestArchive(key) { Listed = written => [.. written.Reverse()] }.Build();

        var rejected = await AssertRejectedAsync(ArchiveRejection.UnlistedEntry, () => VerifyAsync(archive, key));

        Assert.Contains("out of order", rejected.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nothing_but_the_signature_may_follow_the_manifest_and_nothing_may_follow_the_signature()
    {
        using var key = TestArchive.NewKey();
        (string, byte[]) extra = (ArchiveLayout.ModelsPage(1), [1, 2, 3]);
        var between = new TestArchive(key) { BeforeSignature = [extra] }.Build();
        var after = new TestArchive(key) { AfterSignature = [extra] }.Build();

        Assert.Contains("only manifest.sig may follow", (await AssertRejectedAsync(ArchiveRejection.UnlistedEntry, () => VerifyAsync(between, key))).Message, StringComparison.Ordinal);
        Assert.Contains("nothing may follow the signature", (await AssertRejectedAsync(ArchiveRejection.UnlistedEntry, () => VerifyAsync(after, key))).Message, StringComparison.Ordinal);
    }

    private static byte[] Replace(byte[] json, string from, string to) =>
        Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(json).Replace(from, to, StringComparison.Ordinal));

    private static byte[] Flip(byte[] data)
    {
        var flipped = data.ToArray();
        flipped[flipped.Length / 2] ^= 1;
        return flipped;
    }

    private static byte[] FlipSignatureByte(byte[] json)
    {
        var signature = ManifestSignature.Parse(json);
        var raw = Convert.FromBase64String(signature.Signature);
        raw[10] ^= 1;
        return (signature with { Signature = Convert.ToBase64String(raw) }).ToJsonBytes();
    }

    /// <summary>manifest.json's sha256, hashed here rather than by the reader.</summary>
    private static async Task<string> ManifestSha256Async(byte[] archive)
    {
        await using var reader = new ArchiveReader(new MemoryStream(archive), ArchiveLimits.Default);
        while (await reader.ReadNextAsync() is { } entry)
        {
            using (entry)
            {
                if (entry.Kind == ArchiveEntryKind.Manifest)
                {
                    return TestArchive.Sha256(entry.Data.ToArray());
                }
            }
        }

        throw new InvalidOperationException("The archive has no manifest.");
    }
}
