using System.Runtime.CompilerServices;
using Microservices.Export.Extensions;
using Microservices.Export.Jobs;
using Microservices.Export.Storage;
using Microsoft.Extensions.Logging;

namespace Microservices.Export.Domain;

/// <summary>
/// Stores an archive (a client's upload, or one an import fetched from a URL) as a multipart upload
/// under imports/, a part at a time, so the service holds one part in memory however large the archive.
/// </summary>
internal sealed class ArchiveUploads(IArchiveStorage storage, DependencyRetry retry, ExportOptions options, TimeProvider time, ILogger<ArchiveUploads> logger)
{
    private const int ReadBytes = 1024 * 1024;

    public async Task<(string ArchiveId, long Size, DateTimeOffset ExpiresAt)> UploadAsync(string owner, IAsyncEnumerable<ReadOnlyMemory<byte>> chunks, CancellationToken cancellationToken)
    {
        var id = ExportJobs.NewId();
        var total = await StoreAsync(ArchiveKeys.Upload(owner, id), chunks, cancellationToken).ConfigureAwait(false);
        return total == 0
            ? throw new ExportException(ExportErrorKind.InvalidArgument, "The archive is empty: send its bytes in chunk.")
            : (id, total, time.GetUtcNow() + options.Import.UploadLifetime);
    }

    /// <summary>Stores the bytes of <paramref name="source"/> at <paramref name="key"/>; see <see cref="StoreAsync(string, IAsyncEnumerable{ReadOnlyMemory{byte}}, CancellationToken)"/>.</summary>
    public Task<long> StoreAsync(string key, Stream source, CancellationToken cancellationToken) =>
        StoreAsync(key, Chunks(source, cancellationToken), cancellationToken);

    /// <summary>
    /// Stores the chunks at <paramref name="key"/>, refusing more than Export:Import:MaxArchiveBytes;
    /// returns the size, or 0 when there were no bytes (then nothing is stored).
    /// </summary>
    public async Task<long> StoreAsync(string key, IAsyncEnumerable<ReadOnlyMemory<byte>> chunks, CancellationToken cancellationToken)
    {
        var uploadId = await retry.ExecuteAsync("s3", async ct => await storage.StartUploadAsync(key, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        var parts = new List<(int, string)>();
        using var part = new MemoryStream();
        long total = 0;
        try
        {
            await foreach (var chunk in chunks.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                total += chunk.Length;
                if (total > options.Import.MaxArchiveBytes)
                {
                    throw new ExportException(ExportErrorKind.ResourceExhausted, $"The archive is larger than Export:Import:MaxArchiveBytes ({options.Import.MaxArchiveBytes} bytes).");
                }

                part.Write(chunk.Span);
                if (part.Length >= options.PartSize)
                {
                    parts.Add((parts.Count + 1, await UploadPartAsync(key, uploadId, parts.Count + 1, part, cancellationToken).ConfigureAwait(false)));
                }
            }

            if (total == 0)
            {
                await AbortAsync(key, uploadId).ConfigureAwait(false);
                return 0;
            }

            if (part.Length > 0)
            {
                parts.Add((parts.Count + 1, await UploadPartAsync(key, uploadId, parts.Count + 1, part, cancellationToken).ConfigureAwait(false)));
            }

            await retry.ExecuteAsync("s3", async ct => await storage.CompleteUploadAsync(key, uploadId, parts, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            return total;
        }
        catch
        {
            await AbortAsync(key, uploadId).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>An abort that fails must not hide why the upload ended; the sweeper and the bucket's lifecycle rule remove the parts.</summary>
    private async Task AbortAsync(string key, string uploadId)
    {
        try
        {
            await storage.AbortUploadAsync(key, uploadId, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception error)
        {
            logger.LogWarning(error, "Could not abort the multipart upload {UploadId} of {Key}; it is left for the sweeper", uploadId, key);
        }
    }

    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> Chunks(Stream source, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var buffer = new byte[ReadBytes];
        while (await source.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) is > 0 and var read)
        {
            // The caller copies each chunk into its part before asking for the next, so one buffer serves.
            yield return buffer.AsMemory(0, read);
        }
    }

    private async Task<string> UploadPartAsync(string key, string uploadId, int number, MemoryStream part, CancellationToken cancellationToken)
    {
        var etag = await retry.ExecuteAsync("s3", async ct =>
        {
            using var content = new MemoryStream(part.GetBuffer(), 0, (int)part.Length, writable: false);
            return await storage.UploadPartAsync(key, uploadId, number, content, part.Length, ct).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        part.SetLength(0);
        return etag;
    }
}
