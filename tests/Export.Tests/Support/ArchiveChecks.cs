using Microservices.Blob.V1;
using Microservices.Export.V1;
using Microservices.ExportFormat;

namespace Microservices.Export.Tests.Support;

/// <summary>What a finished export must be, whatever happened while it ran: a whole, signed archive holding every blob byte for byte.</summary>
internal static class ArchiveChecks
{
    public static async Task VerifiedWithBlobsAsync(ExportService.ExportServiceClient client, string owner, string exportId, IEnumerable<(Digest Digest, byte[] Data)> blobs)
    {
        var archive = await ExportCalls.DownloadAsync(client, owner, exportId);
        var key = await client.GetSigningKeyAsync(new GetSigningKeyRequest(), ExportSystem.As(owner));
        using var trusted = SigningKeys.ImportPublicKeyPem(key.PublicKeyPem);
        var verified = await ArchiveVerifier.VerifyAsync(new MemoryStream(archive), [trusted], requireSignature: true, ArchiveLimits.Default, CancellationToken.None);
        Assert.True(verified.SignatureVerified);
        Assert.Empty(verified.Manifest.MissingBlobs);

        var data = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        await using (var reader = new ArchiveReader(new MemoryStream(archive), ArchiveLimits.Default))
        {
            while (await reader.ReadNextAsync() is { } entry)
            {
                using (entry)
                {
                    if (entry.Kind == ArchiveEntryKind.Data)
                    {
                        data.Add(entry.Name, entry.Data.ToArray());
                    }
                }
            }
        }

        var expected = blobs.ToList();
        Assert.Equal(expected.Sum(b => ArchiveLayout.ChunkCount(b.Data.Length)), data.Count);
        foreach (var (digest, bytes) in expected)
        {
            var chunks = Enumerable.Range(0, ArchiveLayout.ChunkCount(bytes.Length)).Select(c => data[ArchiveLayout.Data(digest.Hash, bytes.Length, c)]);
            Assert.True(bytes.AsSpan().SequenceEqual(chunks.SelectMany(c => c).ToArray()), $"blob {digest.Hash} differs from what was seeded");
        }
    }
}
