using Grpc.Core;
using Microservices.Blob.V1;

namespace Microservices.Export.Tests.Support;

/// <summary>
/// Everything an owner holds in registry and blob, as comparable strings: models (with their
/// versions), blobs and references. Taken before and after a refused import to show it wrote nothing.
/// </summary>
internal sealed record OwnerSnapshot(IReadOnlyList<string> Models, IReadOnlyList<string> Blobs, IReadOnlyList<string> References)
{
    public static async Task<OwnerSnapshot> TakeAsync(ExportSystem system, string owner)
    {
        var models = (await Seed.ListModelsAsync(system, owner))
            .Select(m => $"{m.ModelId} v{m.Version} {m.ConfigPath} {m.Alias}")
            .Order(StringComparer.Ordinal)
            .ToList();

        var blobs = new List<string>();
        var token = "";
        do
        {
            var page = await system.Blob.ListBlobsAsync(new ListBlobsRequest { PageSize = 1000, PageToken = token }, ExportSystem.As(owner));
            blobs.AddRange(page.Blobs.Select(b => $"{b.Digest.Hash}/{b.Digest.SizeBytes}"));
            token = page.NextPageToken;
        }
        while (token.Length > 0);

        var references = new List<string>();
        token = "";
        do
        {
            var page = await system.Blob.ListReferencesAsync(new ListReferencesRequest { PageSize = 1000, PageToken = token }, ExportSystem.As(owner));
            references.AddRange(page.References.Select(r => $"{r.TraceId}/{r.EventId}/{r.Digest.Hash}"));
            token = page.NextPageToken;
        }
        while (token.Length > 0);

        return new OwnerSnapshot(models, blobs, references);
    }

    /// <summary>The digests among <paramref name="digests"/> the owner does not hold (blob's FindMissing).</summary>
    public static async Task<IReadOnlyList<string>> MissingAsync(ExportSystem system, string owner, IEnumerable<Digest> digests)
    {
        var request = new FindMissingRequest();
        request.Digests.AddRange(digests);
        var response = await system.Blob.FindMissingAsync(request, ExportSystem.As(owner));
        return [.. response.MissingDigests.Select(d => d.Hash).Order(StringComparer.Ordinal)];
    }

    public void AssertSameAs(OwnerSnapshot before)
    {
        Assert.Equal(before.Models, Models);
        Assert.Equal(before.Blobs, Blobs);
        Assert.Equal(before.References, References);
    }

    public void AssertEmpty()
    {
        Assert.Empty(Models);
        Assert.Empty(Blobs);
        Assert.Empty(References);
    }
}
