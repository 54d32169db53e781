using Grpc.Core;
using Microservices.Export.Domain;
using Microservices.Export.Extensions;
using Microservices.Export.Jobs;
using Microservices.Export.Storage;
using Microsoft.Extensions.Logging;

namespace Microservices.Export.Import;

/// <summary>
/// Opens the archive an import reads, as a stream, each time it is asked (an import reads it up to
/// three times). A URL is read once, into the bucket (<see cref="FetchAsync"/>): a presigned link may
/// expire before the last read, and each read would fetch the whole archive again.
/// </summary>
internal sealed class ArchiveSources(IArchiveStorage storage, IJobStore store, IHttpClientFactory http, ArchiveUploads uploads, ExportOptions options, ILogger<ArchiveSources> logger)
{
    public const string HttpClientName = "archives";

    /// <summary>
    /// For a URL source, copies the archive into the bucket under imports/ and returns its key (for
    /// <see cref="OpenAsync"/> and then <see cref="DeleteFetchedAsync"/>); null for the other sources.
    /// Each run copies to a key of its own, so a replica that lost the job cannot delete the next one's copy.
    /// </summary>
    public async Task<string?> FetchAsync(JobRecord job, CancellationToken cancellationToken)
    {
        if (Source(job) is not { Kind: ImportSourceKind.Url } source)
        {
            return null;
        }

        var key = ArchiveKeys.Upload(job.Owner, ExportJobs.NewId());
        await using var body = await OpenUrlAsync(source.Value, cancellationToken).ConfigureAwait(false);
        return await uploads.StoreAsync(key, body, cancellationToken).ConfigureAwait(false) == 0
            ? throw new ImportRefusedException(StatusCode.InvalidArgument, "The archive at archive_url is empty.")
            : key;
    }

    /// <param name="fetchedKey">What <see cref="FetchAsync"/> returned.</param>
    public async Task<Stream> OpenAsync(JobRecord job, string? fetchedKey, CancellationToken cancellationToken)
    {
        var source = Source(job);
        return source.Kind switch
        {
            ImportSourceKind.UploadedArchive => await storage.OpenReadAsync(ArchiveKeys.Upload(job.Owner, source.Value), 0, cancellationToken).ConfigureAwait(false),
            ImportSourceKind.Export => await OpenExportAsync(job, source.Value, cancellationToken).ConfigureAwait(false),
            ImportSourceKind.Url => await storage.OpenReadAsync(fetchedKey ?? throw new InvalidOperationException($"Import {job.Id} reads a URL it has not fetched."), 0, cancellationToken).ConfigureAwait(false),
            _ => throw new InvalidOperationException($"Unknown import source {source.Kind}."),
        };
    }

    /// <summary>Deletes a fetched copy; a failure is only logged (the sweeper removes imports/ after Export:Import:UploadLifetime).</summary>
    public async Task DeleteFetchedAsync(string key)
    {
        try
        {
            await storage.DeleteAsync(key, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception error)
        {
            logger.LogWarning(error, "Could not delete the fetched archive {Key}; the sweeper removes it later", key);
        }
    }

    private static ImportSource Source(JobRecord job) => job.Source ?? throw new InvalidOperationException($"Import {job.Id} has no source.");

    private async Task<Stream> OpenExportAsync(JobRecord job, string exportId, CancellationToken cancellationToken)
    {
        var export = await store.GetAsync(exportId, cancellationToken).ConfigureAwait(false);
        if (export is not { State: JobState.Completed } || export.Owner != job.Owner)
        {
            throw new ImportRefusedException(StatusCode.FailedPrecondition, $"Export {exportId} is no longer available (it expired or was deleted).");
        }

        return await storage.OpenReadAsync(export.ObjectKey, 0, cancellationToken).ConfigureAwait(false);
    }

    private async Task<Stream> OpenUrlAsync(string url, CancellationToken cancellationToken)
    {
        var client = http.CreateClient(HttpClientName);
        HttpResponseMessage response;
        try
        {
            response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException error) when (error.InnerException is ExportException refused)
        {
            // ArchiveUrlPolicy refused the address the host resolves to now.
            throw new ImportRefusedException(refused.Kind == ExportErrorKind.PermissionDenied ? StatusCode.PermissionDenied : StatusCode.InvalidArgument, refused.Message);
        }

        try
        {
            if ((int)response.StatusCode is >= 300 and < 400)
            {
                throw new ImportRefusedException(StatusCode.InvalidArgument,
                    $"Fetching the archive answered HTTP {(int)response.StatusCode} (a redirect); redirects are not followed: give the archive's own URL.");
            }

            if (!response.IsSuccessStatusCode)
            {
                var status = (int)response.StatusCode;
                throw new ImportRefusedException(
                    status is 403 or 404 or 410 ? StatusCode.FailedPrecondition : StatusCode.Unavailable,
                    $"Fetching the archive answered HTTP {status} (a presigned link may have expired).");
            }

            if (response.Content.Headers.ContentLength > options.Import.MaxArchiveBytes)
            {
                throw CappedArchiveStream.TooLarge(options.Import.MaxArchiveBytes);
            }

            return new CappedArchiveStream(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), response, options.Import.MaxArchiveBytes);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }
}
