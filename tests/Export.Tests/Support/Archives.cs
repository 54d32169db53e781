using System.Formats.Tar;
using System.IO.Compression;
using Google.Protobuf;
using Grpc.Core;
using Microservices.Export.V1;
using Microservices.ExportFormat;

namespace Microservices.Export.Tests.Support;

/// <summary>Archives as bytes: sent with UploadArchive, imported, or opened up to be rebuilt.</summary>
internal static class Archives
{
    public const int Chunk = 256 * 1024;

    /// <summary>UploadArchive of <paramref name="archive"/> in chunks; the response, or the call's status as an RpcException.</summary>
    public static async Task<UploadArchiveResponse> UploadAsync(ExportSystem system, string owner, byte[] archive)
    {
        using var call = system.Export.UploadArchive(ExportSystem.As(owner));
        try
        {
            for (var offset = 0; offset < archive.Length; offset += Chunk)
            {
                await call.RequestStream.WriteAsync(new UploadArchiveRequest { Chunk = ByteString.CopyFrom(archive, offset, Math.Min(Chunk, archive.Length - offset)) });
            }

            await call.RequestStream.CompleteAsync();
        }
        catch (RpcException)
        {
            // The server ended the call early (e.g. the archive is too large): its status is in the response.
        }
        catch (InvalidOperationException)
        {
            // Writing after the call finished.
        }

        return await call.ResponseAsync;
    }

    /// <summary>Uploads the archive as <paramref name="owner"/>, imports it, and waits until the import is finished.</summary>
    public static async Task<ImportJob> ImportAsync(ExportSystem system, string owner, byte[] archive, bool dryRun = false)
    {
        var uploaded = await UploadAsync(system, owner, archive);
        var started = await system.Export.StartImportAsync(new StartImportRequest { ArchiveId = uploaded.ArchiveId, DryRun = dryRun }, ExportSystem.As(owner));
        return await Seed.ImportFinishedAsync(system, owner, started.ImportId, TimeSpan.FromMinutes(1));
    }

    /// <summary>The import ended FAILED with <paramref name="code"/> and a message that holds <paramref name="problem"/>.</summary>
    public static void AssertFailed(ImportJob job, string code, string problem)
    {
        Assert.True(job.State == JobState.Failed, $"{job.State}: {job.Error?.Message}");
        Assert.Equal(code, job.Error?.Code);
        Assert.Contains(problem, job.Error?.Message, StringComparison.Ordinal);
    }

    /// <summary>A completed export's entries in archive order, manifest.json and manifest.sig left out.</summary>
    public static List<(string Name, byte[] Data)> DataEntries(byte[] archive) =>
        [.. AllEntries(archive).Where(e => e.Name is not (ArchiveLayout.ManifestName or ArchiveLayout.SignatureName))];

    public static byte[] Entry(byte[] archive, string name) => AllEntries(archive).Single(e => e.Name == name).Data;

    private static List<(string Name, byte[] Data)> AllEntries(byte[] archive)
    {
        var entries = new List<(string, byte[])>();
        using var gzip = new GZipStream(new MemoryStream(archive), CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        while (tar.GetNextEntry() is { } entry)
        {
            using var copy = new MemoryStream();
            entry.DataStream?.CopyTo(copy);
            entries.Add((entry.Name, copy.ToArray()));
        }

        return entries;
    }

    /// <summary>Exports <paramref name="owner"/>'s data and returns the archive's bytes.</summary>
    public static async Task<byte[]> ExportAsync(ExportSystem system, string owner)
    {
        var started = await system.Export.StartExportAsync(new StartExportRequest(), ExportSystem.As(owner));
        var done = await Seed.FinishedAsync(system, owner, started.ExportId);
        Assert.True(done.State == JobState.Completed, done.Error?.Message);
        return await ExportCalls.DownloadAsync(system.Export, owner, started.ExportId);
    }
}
