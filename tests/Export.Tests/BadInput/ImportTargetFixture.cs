using System.Security.Cryptography;
using Microservices.Blob.V1;
using Microservices.Export.Tests.Format;
using Microservices.Export.Tests.Support;
using Microservices.ExportFormat;

namespace Microservices.Export.Tests.BadInput;

/// <summary>
/// An installation that trusts one origin key and requires signatures (window 0), and the entries of a
/// real export of owner "origin" (models, blobs, references), to rebuild signed with that key and break.
/// </summary>
public sealed class ImportTargetFixture : IAsyncLifetime
{
    public const string Origin = "origin";

    public const int Models = 3;

    internal ExportSystem System { get; private set; } = null!;

    public ECDsa OriginKey { get; } = TestArchive.NewKey();

    /// <summary>The origin export's archive, signed by this installation.</summary>
    public byte[] Export { get; private set; } = [];

    public IReadOnlyList<(string Name, byte[] Data)> Entries { get; private set; } = [];

    public IReadOnlyList<Digest> Digests { get; private set; } = [];

    public ArchiveManifest ExportManifest { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        System = await ExportSystem.StartAsync(new(ExportSystem.LoopbackArchiveUrls())
        {
            ["Export:Window"] = "00:00:00",
            ["Export:Import:TrustedKeys:0"] = SigningKeys.PublicKeyPem(OriginKey),
            ["Export:Import:RequireSignature"] = "true",
        });
        await Seed.ModelsAsync(System, Origin, Models);
        Digests = [.. (await Seed.BlobsAsync(System, Origin, [100, 5000])).Select(b => b.Digest)];
        Export = await Archives.ExportAsync(System, Origin);
        Entries = Archives.DataEntries(Export);
        ExportManifest = ArchiveManifest.Parse(Archives.Entry(Export, ArchiveLayout.ManifestName));
    }

    /// <summary>Makes a rebuilt manifest say what the origin's did: its owner and counts.</summary>
    public ArchiveManifest AsOrigin(ArchiveManifest manifest) => manifest with { Owner = Origin, Counts = ExportManifest.Counts };

    /// <summary>The origin's entries in an archive signed by the trusted origin key.</summary>
    internal TestArchive Rebuild() => new(OriginKey) { Entries = Entries, EditManifest = AsOrigin };

    public async Task DisposeAsync()
    {
        OriginKey.Dispose();
        await System.DisposeAsync();
    }
}

[CollectionDefinition(nameof(ImportTargetFixture))]
public sealed class ImportTargetCollection : ICollectionFixture<ImportTargetFixture>;
