using System.Formats.Tar;
using System.Security.Cryptography;
using Microservices.ExportFormat;
using static Microservices.Export.Tests.Format.Rejections;

namespace Microservices.Export.Tests.Format;

public sealed class ArchiveReaderTests
{
    private static readonly string Sha = new('a', 64);

    [Fact]
    public async Task Reads_each_entry_whole_with_its_kind_and_sha256()
    {
        using var key = TestArchive.NewKey();
        var archive = new TestArchive(key) { PartPerEntry = true };
        var bytes = archive.Build();

        await using var reader = new ArchiveReader(new MemoryStream(bytes), ArchiveLimits.Default);
        foreach (var (name, data) in archive.Entries)
        {
            using var entry = await reader.ReadNextAsync();
            Assert.NotNull(entry);
            Assert.Equal(name, entry.Name);
            Assert.Equal(ArchiveLayout.KindOf(name), entry.Kind);
            Assert.Equal(data, entry.Data.ToArray());
            Assert.Equal(TestArchive.Sha256(data), entry.Sha256);
        }

        using (var manifest = await reader.ReadNextAsync())
        {
            Assert.Equal(ArchiveEntryKind.Manifest, manifest?.Kind);
        }

        using (var signature = await reader.ReadNextAsync())
        {
            Assert.Equal(ArchiveEntryKind.Signature, signature?.Kind);
        }

        Assert.Null(await reader.ReadNextAsync());
        Assert.Null(await reader.ReadNextAsync());
        Assert.Equal(archive.Entries.Count + 2, reader.EntriesRead);
        Assert.Equal(bytes.Length, reader.CompressedBytes);
    }

    [Theory]
    [InlineData("../x", "'..' is not allowed")]
    [InlineData("data/../x", "'..' is not allowed")]
    [InlineData("/etc/passwd", "absolute")]
    [InlineData("data/./x", "'.' is not allowed")]
    [InlineData("data\\..\\x", "'\\' is not allowed")]
    [InlineData("models\\000000.jsonl", "'\\' is not allowed")]
    [InlineData("models//000000.jsonl", "empty segment")]
    [InlineData("models/000000.jsonl/", "empty segment")]
    [InlineData("models/000000.jsonl\u0001", "control character U+0001")]
    [InlineData("notes.txt", "not a name this format uses")]
    [InlineData("models/0.jsonl", "not a name this format uses")]
    [InlineData("data/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "not a name this format uses")]
    [InlineData("data/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.1", "not a name this format uses")]
    public async Task Unsafe_or_unknown_names_are_refused_with_the_rule_they_break(string name, string rule)
    {
        var archive = RawTar.WithTarWriter(tar => tar.WriteEntry(RawTar.File(name, [1, 2, 3])));

        var rejected = await AssertRejectedAsync(ArchiveRejection.UnsafeName, () => ReadAllAsync(archive));

        Assert.Contains(rule, rejected.Message, StringComparison.Ordinal);
        Assert.Equal(name, rejected.EntryName);
    }

    [Fact]
    public async Task A_name_over_256_characters_is_refused()
    {
        var archive = RawTar.WithTarWriter(tar => tar.WriteEntry(RawTar.File("models/" + new string('a', 300), [1])));

        var rejected = await AssertRejectedAsync(ArchiveRejection.UnsafeName, () => ReadAllAsync(archive));

        Assert.Contains("at most 256", rejected.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_message_names_the_entry_and_the_rule()
    {
        var archive = RawTar.WithTarWriter(tar => tar.WriteEntry(RawTar.File("data/../x", [1])));

        var rejected = await AssertRejectedAsync(ArchiveRejection.UnsafeName, () => ReadAllAsync(archive));

        Assert.Equal("entry 'data/../x' has an unsafe name: '..' is not allowed", rejected.Message);
    }

    [Theory]
    [InlineData(TarEntryType.SymbolicLink, "a symbolic link")]
    [InlineData(TarEntryType.HardLink, "a hard link")]
    [InlineData(TarEntryType.CharacterDevice, "a character device")]
    [InlineData(TarEntryType.BlockDevice, "a block device")]
    [InlineData(TarEntryType.Fifo, "a fifo")]
    [InlineData(TarEntryType.Directory, "a directory")]
    public async Task Entries_other_than_regular_files_are_refused(TarEntryType type, string described)
    {
        var name = ArchiveLayout.ModelsPage(0);
        var archive = RawTar.WithTarWriter(tar =>
        {
            var entry = new PaxTarEntry(type, name);
            if (type is TarEntryType.SymbolicLink or TarEntryType.HardLink)
            {
                entry.LinkName = "/etc/passwd";
            }

            tar.WriteEntry(entry);
        });

        var rejected = await AssertRejectedAsync(ArchiveRejection.NotRegularFile, () => ReadAllAsync(archive));

        Assert.Equal($"entry '{name}' is {described}; only regular files are allowed", rejected.Message);
    }

    [Fact]
    public async Task A_contiguous_file_entry_is_not_a_regular_file()
    {
        var archive = RawTar.Gzip([.. RawTar.Header(ArchiveLayout.ModelsPage(0), '7', 0), .. RawTar.EndMarker]);

        await AssertRejectedAsync(ArchiveRejection.NotRegularFile, () => ReadAllAsync(archive));
    }

    [Fact]
    public async Task A_pax_global_header_is_refused_before_it_is_parsed()
    {
        var archive = RawTar.WithTarWriter(tar =>
        {
            tar.WriteEntry(new PaxGlobalExtendedAttributesTarEntry(new Dictionary<string, string> { ["path"] = "../x" }));
            tar.WriteEntry(RawTar.File(ArchiveLayout.ModelsPage(0), [1]));
        });

        var rejected = await AssertRejectedAsync(ArchiveRejection.NotRegularFile, () => ReadAllAsync(archive));

        Assert.Contains("PAX global extended header", rejected.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_entries_of_the_same_name_are_refused()
    {
        var name = ArchiveLayout.ModelsPage(0);
        var archive = RawTar.WithTarWriter(tar =>
        {
            tar.WriteEntry(RawTar.File(name, [1]));
            tar.WriteEntry(RawTar.File(name, [2]));
        });

        var rejected = await AssertRejectedAsync(ArchiveRejection.DuplicateName, () => ReadAllAsync(archive));

        Assert.Equal(name, rejected.EntryName);
    }

    [Fact]
    public async Task An_entry_header_over_the_cap_is_refused_without_reading_its_data()
    {
        // The header claims 1 GiB and no data follows: reading it would end as Truncated, not TooLarge.
        var archive = RawTar.Gzip(RawTar.Header($"data/{Sha}", '0', 1L << 30));

        var rejected = await AssertRejectedAsync(ArchiveRejection.TooLarge, () => ReadAllAsync(archive));

        Assert.Contains($"is {1L << 30} bytes; at most {8 * 1024 * 1024}", rejected.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_manifest_has_its_own_cap_and_other_entries_theirs()
    {
        var limits = ArchiveLimits.Default with { MaxEntryBytes = 1000, MaxManifestBytes = 2000 };
        var fits = RawTar.WithTarWriter(tar =>
        {
            tar.WriteEntry(RawTar.File(ArchiveLayout.ModelsPage(0), new byte[1000]));
            tar.WriteEntry(RawTar.File(ArchiveLayout.ManifestName, new byte[2000]));
        });
        Assert.Equal(2, (await ReadAllAsync(fits, limits)).Count);

        var bigEntry = RawTar.WithTarWriter(tar => tar.WriteEntry(RawTar.File(ArchiveLayout.ModelsPage(0), new byte[1001])));
        var bigManifest = RawTar.WithTarWriter(tar => tar.WriteEntry(RawTar.File(ArchiveLayout.ManifestName, new byte[2001])));

        Assert.Contains("MaxEntryBytes", (await AssertRejectedAsync(ArchiveRejection.TooLarge, () => ReadAllAsync(bigEntry, limits))).Message, StringComparison.Ordinal);
        Assert.Contains("MaxManifestBytes", (await AssertRejectedAsync(ArchiveRejection.TooLarge, () => ReadAllAsync(bigManifest, limits))).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData('x')]
    [InlineData('L')]
    public async Task A_pax_or_gnu_long_name_header_over_the_cap_is_refused_before_the_tar_reader_buffers_it(char type)
    {
        var archive = RawTar.Gzip(RawTar.Header("PaxHeaders/x", type, 100L << 20));

        var rejected = await AssertRejectedAsync(ArchiveRejection.TooLarge, () => ReadAllAsync(archive));

        Assert.Contains("MaxHeaderBytes", rejected.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pax_size_that_contradicts_the_tar_header_is_refused()
    {
        var record = RawTar.PaxRecord("size", "5");
        var archive = RawTar.Gzip([
            .. RawTar.Entry("PaxHeaders/m", 'x', record),
            .. RawTar.Entry(ArchiveLayout.ModelsPage(0), '0', []),
            .. new byte[RawTar.Block],
            .. RawTar.EndMarker,
        ]);

        var rejected = await AssertRejectedAsync(ArchiveRejection.NotATar, () => ReadAllAsync(archive));

        Assert.Contains("PAX size of 5 bytes but a tar header size of 0", rejected.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task More_entries_than_the_cap_are_refused()
    {
        using var key = TestArchive.NewKey();
        var archive = new TestArchive(key).Build();

        await AssertRejectedAsync(ArchiveRejection.TooManyEntries, () => ReadAllAsync(archive, ArchiveLimits.Default with { MaxEntries = 3 }));
    }

    [Fact]
    public async Task A_header_with_a_wrong_checksum_is_not_a_tar()
    {
        var header = RawTar.Header(ArchiveLayout.ModelsPage(0), '0', 0);
        header[0] ^= 1;
        var archive = RawTar.Gzip([.. header, .. RawTar.EndMarker]);

        var rejected = await AssertRejectedAsync(ArchiveRejection.NotATar, () => ReadAllAsync(archive));

        Assert.Contains("wrong checksum", rejected.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Damaged_gzip_is_corrupt_gzip()
    {
        using var key = TestArchive.NewKey();
        var parts = new TestArchive(key) { PartPerEntry = true }.BuildParts();
        var badMagic = parts.SelectMany(p => p).ToArray();
        badMagic[0] ^= 0xff;
        var models = parts[0].ToArray();
        models[models.Length / 2] ^= 0x55;
        var badDeflate = models.Concat(parts.Skip(1).SelectMany(p => p)).ToArray();

        await AssertRejectedAsync(ArchiveRejection.CorruptGzip, () => VerifyAsync(badMagic, key));
        await AssertRejectedAsync(ArchiveRejection.CorruptGzip, () => VerifyAsync(badDeflate, key));
    }

    [Fact]
    public async Task An_archive_cut_inside_an_entry_is_truncated()
    {
        using var key = TestArchive.NewKey();
        var parts = new TestArchive(key) { PartPerEntry = true }.BuildParts();

        // Part 3 holds only the 50 000-byte blob, uncompressed: cutting it in half cuts the entry.
        var cut = parts.Take(3).SelectMany(p => p).Concat(parts[3].Take(parts[3].Length / 2)).ToArray();

        var rejected = await AssertRejectedAsync(ArchiveRejection.Truncated, () => VerifyAsync(cut, key));

        Assert.StartsWith("the archive ends inside entry 'data/", rejected.Message, StringComparison.Ordinal);
        Assert.Contains("of its 50000 bytes", rejected.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_archive_cut_at_an_entry_boundary_before_the_manifest_is_truncated()
    {
        using var key = TestArchive.NewKey();
        var archive = new TestArchive(key) { PartPerEntry = true };
        var parts = archive.BuildParts();

        // Parts end on entry and gzip member boundaries: this is a well-formed gzip of whole entries, and no end marker.
        var cut = parts.Take(archive.Entries.Count).SelectMany(p => p).ToArray();

        var rejected = await AssertRejectedAsync(ArchiveRejection.Truncated, () => VerifyAsync(cut, key));

        Assert.Contains($"after entry '{archive.Entries[^1].Name}'", rejected.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_stream_is_truncated()
    {
        await AssertRejectedAsync(ArchiveRejection.Truncated, () => ReadAllAsync([]));
    }

    [Fact]
    public async Task Zero_padding_after_the_end_marker_is_accepted_and_anything_else_is_not()
    {
        using var key = TestArchive.NewKey();
        var archive = new TestArchive(key).Build();

        var padded = await VerifyAsync([.. archive, .. RawTar.Gzip(new byte[10 * RawTar.Block])], key);
        Assert.True(padded.SignatureVerified);

        var appended = RawTar.Gzip([.. RawTar.Entry(ArchiveLayout.ModelsPage(1), '0', [1, 2, 3]), .. RawTar.EndMarker]);
        var rejected = await AssertRejectedAsync(ArchiveRejection.NotATar, () => VerifyAsync([.. archive, .. appended], key));
        Assert.Contains("after the tar end-of-archive marker", rejected.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bytes_after_the_last_gzip_member_that_start_no_member_are_ignored()
    {
        // GZipStream stops at the first bytes that are not a gzip header; nothing the manifest covers is there.
        using var key = TestArchive.NewKey();
        var archive = new TestArchive(key).Build();

        var verified = await VerifyAsync([.. archive, .. "not gzip"u8.ToArray()], key);

        Assert.True(verified.SignatureVerified);
    }

    [Fact]
    public async Task A_failing_source_surfaces_as_its_own_exception_not_as_a_rejection()
    {
        using var key = TestArchive.NewKey();
        var archive = new TestArchive(key).Build();
        var failure = new IOException("connection reset by peer");

        await using var reader = new ArchiveReader(new FailingStream(archive, archive.Length / 2, failure), ArchiveLimits.Default);
        var thrown = await Assert.ThrowsAsync<IOException>(async () =>
        {
            while (await reader.ReadNextAsync() is { } entry)
            {
                entry.Dispose();
            }
        });

        Assert.Same(failure, thrown);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await reader.ReadNextAsync());
    }

    [Fact]
    public async Task Random_bytes_are_only_ever_rejected()
    {
        var failures = new List<string>();
        for (var seed = 0; seed < 300; seed++)
        {
            var random = new Random(seed);
            var bytes = new byte[1024];
            random.NextBytes(bytes);
            if (seed % 2 == 1)
            {
                // Past the gzip header check, into inflate itself.
                bytes[0] = 0x1f;
                bytes[1] = 0x8b;
                bytes[2] = 8;
                bytes[3] = 0;
            }

            await CollectUnexpectedAsync(bytes, $"random 1 KiB, seed {seed}", failures);
        }

        Assert.Empty(failures);
    }

    [Fact]
    public async Task Valid_gzip_of_random_bytes_is_only_ever_rejected()
    {
        var failures = new List<string>();
        for (var seed = 0; seed < 300; seed++)
        {
            var random = new Random(seed);
            var bytes = new byte[random.Next(1, 8192)];
            random.NextBytes(bytes);
            if (seed % 3 == 0)
            {
                // A header-shaped first block: the checksum field is what stops it.
                "ustar\000"u8.CopyTo(bytes.AsSpan(Math.Min(257, bytes.Length - 8)));
            }

            await CollectUnexpectedAsync(RawTar.Gzip(bytes), $"gzip of {bytes.Length} random bytes, seed {seed}", failures);
        }

        Assert.Empty(failures);
    }

    [Fact]
    public async Task A_valid_archive_with_bytes_flipped_in_its_tar_either_verifies_or_is_rejected()
    {
        // Flips in headers reach TarReader's parser (the checksum is recomputed for half of them, so
        // the parser sees the damage); flips elsewhere hit the manifest's hashes.
        using var key = TestArchive.NewKey();
        var tar = RawTar.Gunzip(new TestArchive(key).Build());
        var failures = new List<string>();
        for (var seed = 0; seed < 300; seed++)
        {
            var random = new Random(seed);
            var damaged = tar.ToArray();
            var headerStarts = Enumerable.Range(0, damaged.Length / RawTar.Block).Select(b => b * RawTar.Block).Where(o => IsHeader(damaged, o)).ToArray();
            var header = headerStarts[random.Next(headerStarts.Length)];
            for (var flips = random.Next(1, 4); flips > 0; flips--)
            {
                damaged[header + random.Next(RawTar.Block)] = (byte)random.Next(256);
            }

            if (seed % 2 == 0)
            {
                FixChecksum(damaged.AsSpan(header, RawTar.Block));
            }

            await CollectUnexpectedAsync(RawTar.Gzip(damaged), $"flipped header at {header}, seed {seed}", failures, key);
        }

        Assert.Empty(failures);
    }

    private static async Task CollectUnexpectedAsync(byte[] archive, string what, List<string> failures, ECDsa? key = null)
    {
        using var fallback = key is null ? TestArchive.NewKey() : null;
        try
        {
            await VerifyAsync(archive, key ?? fallback!);
            if (key is null)
            {
                failures.Add($"{what}: verified");
            }
        }
        catch (ArchiveRejectedException)
        {
        }
        catch (Exception e)
        {
            failures.Add($"{what}: {e.GetType().Name}: {e.Message}");
        }
    }

    private static bool IsHeader(byte[] tar, int offset) =>
        tar.AsSpan(offset + 257, 5).SequenceEqual("ustar"u8);

    private static void FixChecksum(Span<byte> header)
    {
        "        "u8.CopyTo(header[148..]);
        var sum = 0;
        foreach (var b in header)
        {
            sum += b;
        }

        System.Text.Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(header[148..]);
    }

    private sealed class FailingStream(byte[] data, int failAt, Exception failure) : MemoryStream(data, writable: false)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Position >= failAt)
            {
                throw failure;
            }

            return base.ReadAsync(buffer[..(int)Math.Min(buffer.Length, failAt - Position)], cancellationToken);
        }
    }
}
