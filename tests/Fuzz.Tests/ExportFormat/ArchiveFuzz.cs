using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Microservices.ExportFormat;

namespace Microservices.Fuzz.Tests.ExportFormat;

/// <summary>
/// A valid signed archive, mutated at the gzip level (bit flips, truncation, inserted bytes) and at
/// the tar level (inserted entries of every type and name trick, headers with huge declared sizes
/// and a correct checksum): the verifier either refuses it with ArchiveRejectedException or accepts
/// exactly the entries that were signed.
/// </summary>
public sealed class ArchiveFuzz
{
    private static readonly ECDsa Key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private static readonly DateTimeOffset Created = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private static readonly Gen<(string Name, byte[] Data)[]> Contents =
        from models in Fuzzing.Bytes(300)
        from blobs in Gen.Choose(0, 3).SelectMany(n => Gen.ArrayOf(Fuzzing.Bytes(3000), n))
        select new[] { (ArchiveLayout.ModelsPage(0), models), (ArchiveLayout.BlobsPage(0), Encoding.UTF8.GetBytes("{}\n")) }
            .Concat(blobs.DistinctBy(Convert.ToHexString).Select(b => (ArchiveLayout.Data(Convert.ToHexStringLower(SHA256.HashData(b)), b.Length, 0), b)))
            .ToArray();

    /// <summary>The signed archive's entries, manifest and signature last, as (name, bytes).</summary>
    private static List<(string Name, byte[] Data)> Signed((string Name, byte[] Data)[] contents)
    {
        var manifest = new ArchiveManifest
        {
            ExportId = "export-1",
            Owner = "alice",
            Installation = "fuzz",
            CreatedAt = Created,
            SigningKeyId = SigningKeys.KeyId(Key),
            Counts = new ArchiveCounts(1, contents.Length - 2, 0, contents.Skip(2).Sum(c => (long)c.Data.Length)),
            Entries = contents.Select(c => new ManifestEntry(c.Name, c.Data.Length, Convert.ToHexStringLower(SHA256.HashData(c.Data)))).ToList(),
        };
        var json = manifest.ToJsonBytes();
        return [.. contents, (ArchiveLayout.ManifestName, json), (ArchiveLayout.SignatureName, SigningKeys.Sign(Key, json).ToJsonBytes())];
    }

    private static byte[] Written(List<(string Name, byte[] Data)> entries, int partEvery)
    {
        using var writer = new ArchivePartWriter(Created);
        using var archive = new MemoryStream();
        for (var i = 0; i < entries.Count; i++)
        {
            writer.WriteEntry(entries[i].Name, entries[i].Data, compress: i % 2 == 0);
            if (partEvery > 0 && i % partEvery == 0)
            {
                using var part = writer.TakePart();
                part.OpenRead().CopyTo(archive);
            }
        }

        using (var last = writer.Finish())
        {
            last.OpenRead().CopyTo(archive);
        }

        return archive.ToArray();
    }

    /// <summary>Verify, then read again: null when refused, else the (name, sha256) of every entry read.</summary>
    private static async Task<List<(string, string)>?> AcceptedAsync(byte[] archive, int[] reads)
    {
        try
        {
            var verified = await ArchiveVerifier.VerifyAsync(new ChunkedStream(archive, reads), [Key], requireSignature: true, ArchiveLimits.Default, CancellationToken.None);
            Assert.True(verified.SignatureVerified);
        }
        catch (ArchiveRejectedException e)
        {
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
            return null;
        }

        var read = new List<(string, string)>();
        await using var reader = new ArchiveReader(new MemoryStream(archive), ArchiveLimits.Default);
        while (await reader.ReadNextAsync() is { } entry)
        {
            using (entry)
            {
                read.Add((entry.Name, entry.Sha256));
            }
        }

        return read;
    }

    private static List<(string, string)> Listing(List<(string Name, byte[] Data)> entries) =>
        entries.Select(e => (e.Name, Convert.ToHexStringLower(SHA256.HashData(e.Data)))).ToList();

    [Fact]
    public void Gzip_level_mutations_are_refused_or_change_nothing()
    {
        var cases =
            from contents in Contents
            from partEvery in Gen.Choose(0, 3)
            from kind in Gen.Choose(0, 3)
            from at in Gen.Choose(0, int.MaxValue)
            from bit in Gen.Choose(0, 7)
            from noise in Fuzzing.Bytes(40)
            from reads in Fuzzing.ReadSizes
            select (contents, partEvery, kind, at, bit, noise, reads);

        Fuzzing.CheckAsync(cases, 150, async c =>
        {
            var entries = Signed(c.contents);
            var archive = Written(entries, c.partEvery);
            var i = c.at % archive.Length;
            var mutated = c.kind switch
            {
                0 => Flip(archive, i, c.bit),
                1 => archive[..i],
                2 => [.. archive[..i], .. c.noise, .. archive[i..]],
                _ => archive,
            };

            var accepted = await AcceptedAsync(mutated, c.reads);
            if (c.kind == 3)
            {
                Assert.NotNull(accepted);
            }

            if (accepted is not null)
            {
                Assert.Equal(Listing(entries), accepted);
            }
        });
    }

    private static byte[] Flip(byte[] bytes, int at, int bit)
    {
        var copy = (byte[])bytes.Clone();
        copy[at] ^= (byte)(1 << bit);
        return copy;
    }

    private static readonly Gen<string> TrickyName = Gen.OneOf(
        Gen.Elements(
            "../manifest.json", "/etc/passwd", "data/../manifest.json", "./manifest.json", "models//000000.jsonl", "models/000000.jsonl",
            "models\\000001.jsonl", "C:/x", "models/000001.jsonl/", "manifest.json\0x", "data/" + new string('a', 64) + "/../../x",
            "MANIFEST.JSON", "models/00000١.jsonl", "", "."),
        Gen.Choose(90, 5000).Select(n => "models/" + new string('0', n) + ".jsonl"),
        Gen.Choose(1, 80).SelectMany(n => Gen.ArrayOf(Gen.Elements('.', '/', 'a', '\\', ':', '0'), n)).Select(c => new string(c)));

    private static readonly Gen<TarEntryType> EntryType = Gen.Elements(
        TarEntryType.RegularFile, TarEntryType.SymbolicLink, TarEntryType.HardLink, TarEntryType.Directory, TarEntryType.Fifo, TarEntryType.CharacterDevice);

    [Fact]
    public void Tar_level_mutations_are_refused_or_change_nothing()
    {
        var cases =
            from contents in Contents
            from format in Gen.Elements(TarEntryFormat.Pax, TarEntryFormat.Gnu, TarEntryFormat.Ustar)
            from insert in Gen.Elements(false, true)
            from insertAt in Gen.Choose(0, 10)
            from name in TrickyName
            from type in EntryType
            from sizeAt in Gen.Frequency((2, Gen.Constant(-1)), (1, Gen.Choose(0, 10)))
            from size in Gen.Elements("77777777777", "00000001000", "1000000000000", "   -1", "9", "")
            from flipAt in Gen.Frequency((3, Gen.Constant(-1)), (1, Gen.Choose(0, int.MaxValue)))
            select (contents, format, insert, insertAt, name, type, sizeAt, size, flipAt);

        Fuzzing.CheckAsync(cases, 150, async c =>
        {
            var entries = Signed(c.contents);
            using var tar = new MemoryStream();
            var inserted = false;
            using (var writer = new TarWriter(tar, c.format, leaveOpen: true))
            {
                for (var i = 0; i <= entries.Count; i++)
                {
                    if (c.insert && i == c.insertAt % (entries.Count + 1))
                    {
                        inserted = WriteOdd(writer, c.format, c.type, c.name);
                    }

                    if (i < entries.Count)
                    {
                        var entry = NewEntry(c.format, TarEntryType.RegularFile, entries[i].Name);
                        entry.DataStream = new MemoryStream(entries[i].Data);
                        writer.WriteEntry(entry);
                    }
                }
            }

            var bytes = tar.ToArray();
            if (c.sizeAt >= 0)
            {
                SetDeclaredSize(bytes, c.sizeAt, c.size);
            }

            if (c.flipAt >= 0)
            {
                bytes[c.flipAt % bytes.Length] ^= 0x20;
            }

            var accepted = await AcceptedAsync(Gzip(bytes), [int.MaxValue]);
            if (accepted is not null)
            {
                Assert.False(inserted, $"accepted an inserted {c.type} entry '{c.name}'");
                Assert.Equal(Listing(entries), accepted);
            }
        });
    }

    private static TarEntry NewEntry(TarEntryFormat format, TarEntryType type, string name) => format switch
    {
        TarEntryFormat.Pax => new PaxTarEntry(type, name),
        TarEntryFormat.Gnu => new GnuTarEntry(type, name),
        _ => new UstarTarEntry(type, name),
    };

    /// <returns>Whether the entry was written.</returns>
    private static bool WriteOdd(TarWriter writer, TarEntryFormat format, TarEntryType type, string name)
    {
        TarEntry entry;
        try
        {
            entry = NewEntry(format, type, name);
        }
        catch (ArgumentException)
        {
            entry = NewEntry(format, type, "odd");
        }

        if (type is TarEntryType.SymbolicLink or TarEntryType.HardLink)
        {
            entry.LinkName = "../../etc/passwd";
        }

        if (type == TarEntryType.RegularFile)
        {
            entry.DataStream = new MemoryStream("{}\n"u8.ToArray());
        }

        try
        {
            writer.WriteEntry(entry);
            return true;
        }
        catch (ArgumentException)
        {
            // A name this format cannot hold (ustar's 256 characters): the entry is left out.
            return false;
        }
    }

    /// <summary>Writes <paramref name="size"/> into the size field of the n-th header-looking block, with its checksum made right again.</summary>
    private static void SetDeclaredSize(byte[] tar, int nth, string size)
    {
        var headers = Enumerable.Range(0, tar.Length / 512).Where(b => tar.AsSpan(b * 512 + 257, 5).SequenceEqual("ustar"u8)).ToList();
        if (headers.Count == 0)
        {
            return;
        }

        var at = headers[nth % headers.Count] * 512;
        var field = tar.AsSpan(at + 124, 12);
        field.Clear();
        Encoding.ASCII.GetBytes(size.Length > 11 ? size[..11] : size).CopyTo(field);
        var checksum = tar.AsSpan(at + 148, 8);
        checksum.Fill((byte)' ');
        var sum = 0;
        foreach (var b in tar.AsSpan(at, 512))
        {
            sum += b;
        }

        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(checksum);
    }

    private static byte[] Gzip(byte[] tar)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(tar);
        }

        return output.ToArray();
    }

    [Fact]
    public void No_entry_name_the_layout_accepts_points_outside_it()
    {
        var names = Gen.OneOf(
            TrickyName,
            Gen.Choose(0, 64).SelectMany(n => Gen.ArrayOf(Gen.Elements("0123456789abcdefA./\\-".ToCharArray()), n)).Select(c => "data/" + new string('a', 60) + new string(c)),
            Gen.Choose(0, 10).SelectMany(n => Gen.ArrayOf(Gen.Elements("0123456789.j/sonl\u0660".ToCharArray()), n)).Select(c => "models/" + new string(c)));
        var root = Path.Combine(Path.GetTempPath(), "layout-root");

        Fuzzing.Check(names, 3000, name =>
        {
            if (ArchiveLayout.KindOf(name) is not { } kind)
            {
                Assert.Throws<ArgumentException>(() => ArchiveLayout.ParseData(name));
                return;
            }

            Assert.Matches(@"^(manifest\.json|manifest\.sig|(models|blobs|references)/[0-9]{6}\.jsonl|data/[0-9a-f]{64}(\.[0-9]{6})?)$", name);
            Assert.StartsWith(root + Path.DirectorySeparatorChar, Path.GetFullPath(Path.Combine(root, name)), StringComparison.Ordinal);
            if (kind == ArchiveEntryKind.Data)
            {
                var (sha, chunk) = ArchiveLayout.ParseData(name);
                Assert.Equal(name, name.Length == 69 ? ArchiveLayout.Data(sha, 1, 0) : ArchiveLayout.Data(sha, ArchiveLayout.DataChunkSize + 1L, chunk));
            }
            else
            {
                Assert.Throws<ArgumentException>(() => ArchiveLayout.ParseData(name));
            }
        });
    }
}
