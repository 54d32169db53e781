using System.Security.Cryptography;
using System.Text;
using Microservices.ExportFormat;

namespace Microservices.Export.Tests.Format;

/// <summary>
/// Builds an archive the way the export service does (ArchivePartWriter, a manifest of what it wrote,
/// SigningKeys), with a hook at each step to break it the way a damaged or forged archive would be.
/// </summary>
internal sealed class TestArchive(ECDsa key)
{
    /// <summary>A part's bytes, as the S3 upload would send them.</summary>
    internal static byte[] ToArray(ArchivePart part)
    {
        using var content = part.OpenRead();
        using var copy = new MemoryStream();
        content.CopyTo(copy);
        return copy.ToArray();
    }

    public static readonly DateTimeOffset CreatedAt = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

    public IReadOnlyList<(string Name, byte[] Data)> Entries { get; init; } = SampleEntries();

    /// <summary>What the manifest lists, from what was written.</summary>
    public Func<IReadOnlyList<ManifestEntry>, IReadOnlyList<ManifestEntry>> Listed { get; init; } = written => written;

    public Func<ArchiveManifest, ArchiveManifest> EditManifest { get; init; } = manifest => manifest;

    /// <summary>The manifest's JSON before it is signed.</summary>
    public Func<byte[], byte[]> EditManifestJson { get; init; } = json => json;

    /// <summary>The manifest's JSON after it was signed (a forgery).</summary>
    public Func<byte[], byte[]> TamperManifestJson { get; init; } = json => json;

    public Func<byte[], byte[]> EditSignatureJson { get; init; } = json => json;

    /// <summary>Signs with this key instead (the manifest still names the archive's key).</summary>
    public ECDsa? SignWith { get; init; }

    public bool WithManifest { get; init; } = true;

    public bool WithSignature { get; init; } = true;

    /// <summary>Entries written between manifest.json and manifest.sig.</summary>
    public IReadOnlyList<(string Name, byte[] Data)> BeforeSignature { get; init; } = [];

    public IReadOnlyList<(string Name, byte[] Data)> AfterSignature { get; init; } = [];

    /// <summary>Take a part (close the gzip member) after every entry, as the service does at its part target.</summary>
    public bool PartPerEntry { get; init; }

    public static ECDsa NewKey() => ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public static IReadOnlyList<(string Name, byte[] Data)> SampleEntries()
    {
        var random = new Random(42);
        var blob = RandomBytes(random, 50_000);
        var chunked = RandomBytes(random, 40_000);
        var chunkedSha = Sha256(chunked);
        return
        [
            (ArchiveLayout.ModelsPage(0), Lines(200, i => $"{{\"model_id\":\"m{i}\",\"alias\":\"alias-{i}\",\"state\":\"READY\"}}")),
            (ArchiveLayout.BlobsPage(0), Lines(2, i => $"{{\"sha256\":\"{(i == 0 ? Sha256(blob) : chunkedSha)}\",\"media_type\":\"image/png\"}}")),
            (ArchiveLayout.ReferencesPage(0), Lines(50, i => $"{{\"trace\":\"t{i}\",\"sha256\":\"{Sha256(blob)}\"}}")),
            (ArchiveLayout.Data(Sha256(blob), blob.Length, 0), blob),
            ($"data/{chunkedSha}.000000", chunked[..30_000]),
            ($"data/{chunkedSha}.000001", chunked[30_000..]),
        ];
    }

    public static string Sha256(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    public byte[] Build() => [.. BuildParts().SelectMany(part => part)];

    public List<byte[]> BuildParts()
    {
        var parts = new List<byte[]>();
        using var writer = new ArchivePartWriter(CreatedAt);
        var written = new List<ManifestEntry>();
        foreach (var (name, data) in Entries)
        {
            written.Add(writer.WriteEntry(name, data, compress: name.EndsWith(".jsonl", StringComparison.Ordinal)));
            if (PartPerEntry)
            {
                using var part = writer.TakePart();
                parts.Add(ToArray(part));
            }
        }

        var manifest = EditManifest(new ArchiveManifest
        {
            ExportId = "export-1",
            Owner = "alice",
            Installation = "test",
            CreatedAt = CreatedAt,
            SigningKeyId = SigningKeys.KeyId(key),
            Counts = new ArchiveCounts(200, 2, 50, 90_000),
            Entries = Listed(written),
        });
        var json = EditManifestJson(manifest.ToJsonBytes());
        var signature = EditSignatureJson(SigningKeys.Sign(SignWith ?? key, json).ToJsonBytes());
        if (WithManifest)
        {
            writer.WriteEntry(ArchiveLayout.ManifestName, TamperManifestJson(json), compress: true);
        }

        foreach (var (name, data) in BeforeSignature)
        {
            writer.WriteEntry(name, data, compress: true);
        }

        if (WithSignature)
        {
            writer.WriteEntry(ArchiveLayout.SignatureName, signature, compress: true);
        }

        foreach (var (name, data) in AfterSignature)
        {
            writer.WriteEntry(name, data, compress: true);
        }

        using (var last = writer.Finish())
        {
            parts.Add(ToArray(last));
        }

        return parts;
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] Lines(int count, Func<int, string> line) =>
        Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, count).Select(i => line(i) + "\n")));
}
