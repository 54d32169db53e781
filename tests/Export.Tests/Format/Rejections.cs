using System.Security.Cryptography;
using Microservices.ExportFormat;

namespace Microservices.Export.Tests.Format;

internal static class Rejections
{
    public static async Task<ArchiveRejectedException> AssertRejectedAsync(ArchiveRejection reason, Func<Task> action)
    {
        var rejected = await Assert.ThrowsAsync<ArchiveRejectedException>(action);
        Assert.True(rejected.Reason == reason, $"expected {reason}, got {rejected.Reason}: {rejected.Message}");
        return rejected;
    }

    /// <summary>Reads every entry with <see cref="ArchiveReader"/>; the names read.</summary>
    public static async Task<List<string>> ReadAllAsync(byte[] archive, ArchiveLimits? limits = null)
    {
        var names = new List<string>();
        await using var reader = new ArchiveReader(new MemoryStream(archive), limits ?? ArchiveLimits.Default);
        while (await reader.ReadNextAsync() is { } entry)
        {
            using (entry)
            {
                names.Add(entry.Name);
            }
        }

        return names;
    }

    public static Task<VerifiedArchive> VerifyAsync(byte[] archive, ECDsa trusted, bool requireSignature = true, ArchiveLimits? limits = null) =>
        ArchiveVerifier.VerifyAsync(new MemoryStream(archive), [trusted], requireSignature, limits ?? ArchiveLimits.Default, CancellationToken.None);
}
