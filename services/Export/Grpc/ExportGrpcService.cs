using System.Diagnostics;
using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Google.Protobuf;
using Grpc.Core;
using Microservices.Export.Domain;
using Microservices.Export.Jobs;
using Microservices.Export.Signing;
using Microservices.Export.Extensions;
using Microservices.Export.V1;
using Microservices.Hosting.Security;
using Duration = Google.Protobuf.WellKnownTypes.Duration;
using JobKind = Microservices.Export.Jobs.JobKind;

namespace Microservices.Export.Grpc;

/// <summary>The contract's handler: reads the owner and arguments, calls the domain, maps errors to statuses.</summary>
internal sealed class ExportGrpcService(ExportJobs jobs, ArchiveUploads uploads, ExportSigningKey signingKey, ExportOptions options) : ExportService.ExportServiceBase
{
    private const int DownloadChunk = 1024 * 1024;

    public override Task<ExportJob> StartExport(StartExportRequest request, ServerCallContext context) => Run(async () =>
        (await jobs.StartExportAsync(Owner(context), request.Include.ToDomain(), Activity.Current?.Id, context.CancellationToken).ConfigureAwait(false)).ToExportProto());

    public override Task<ExportJob> GetExport(GetExportRequest request, ServerCallContext context) => Run(async () =>
        (await jobs.GetAsync(Owner(context), JobKind.Export, request.ExportId, "export_id", context.CancellationToken).ConfigureAwait(false)).ToExportProto());

    public override Task WatchExport(GetExportRequest request, IServerStreamWriter<ExportJob> responseStream, ServerCallContext context) => Run(async () =>
    {
        await foreach (var job in jobs.WatchAsync(Owner(context), JobKind.Export, request.ExportId, "export_id", context.CancellationToken).ConfigureAwait(false))
        {
            await responseStream.WriteAsync(job.ToExportProto(), context.CancellationToken).ConfigureAwait(false);
        }
    });

    public override Task<ListExportsResponse> ListExports(ListExportsRequest request, ServerCallContext context) => Run(async () =>
    {
        var (page, next) = await jobs.ListExportsAsync(Owner(context), request.PageSize, request.PageToken, context.CancellationToken).ConfigureAwait(false);
        var response = new ListExportsResponse { NextPageToken = next };
        response.Exports.AddRange(page.Select(j => j.ToExportProto()));
        return response;
    });

    public override Task<ExportJob> CancelExport(GetExportRequest request, ServerCallContext context) => Run(async () =>
        (await jobs.CancelExportAsync(Owner(context), request.ExportId, context.CancellationToken).ConfigureAwait(false)).ToExportProto());

    public override Task<GetDownloadUrlResponse> GetDownloadUrl(GetDownloadUrlRequest request, ServerCallContext context) => Run(async () =>
    {
        var (url, expiresAt) = await jobs.DownloadUrlAsync(Owner(context), request.ExportId, Lifetime(request.ExpiresIn), context.CancellationToken).ConfigureAwait(false);
        return new GetDownloadUrlResponse { Url = url, ExpiresAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(expiresAt) };
    });

    public override Task Download(DownloadRequest request, IServerStreamWriter<DownloadResponse> responseStream, ServerCallContext context) => Run(async () =>
    {
        await using var archive = await jobs.OpenDownloadAsync(Owner(context), request.ExportId, request.Offset, context.CancellationToken).ConfigureAwait(false);
        var buffer = new byte[DownloadChunk];
        while (true)
        {
            var filled = await archive.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, context.CancellationToken).ConfigureAwait(false);
            if (filled == 0)
            {
                return;
            }

            await responseStream.WriteAsync(new DownloadResponse { Data = ByteString.CopyFrom(buffer, 0, filled) }, context.CancellationToken).ConfigureAwait(false);
        }
    });

    // Any authenticated caller may read the public key: it is public, and the same for every owner.
    public override Task<SigningKey> GetSigningKey(GetSigningKeyRequest request, ServerCallContext context) => Task.FromResult(new SigningKey
    {
        KeyId = signingKey.KeyId,
        Algorithm = ExportFormat.ManifestSignature.EcdsaP256Sha256,
        PublicKeyPem = signingKey.PublicKeyPem,
        Installation = options.Installation,
    });

    public override Task<UploadArchiveResponse> UploadArchive(IAsyncStreamReader<UploadArchiveRequest> requestStream, ServerCallContext context) => Run(async () =>
    {
        var (id, size, expiresAt) = await uploads.UploadAsync(Owner(context), Chunks(requestStream, context.CancellationToken), context.CancellationToken).ConfigureAwait(false);
        return new UploadArchiveResponse { ArchiveId = id, SizeBytes = size, ExpiresAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(expiresAt) };
    });

    public override Task<ImportJob> StartImport(StartImportRequest request, ServerCallContext context) => Run(async () =>
    {
        var source = request.SourceCase switch
        {
            StartImportRequest.SourceOneofCase.ArchiveId => new ImportSource(ImportSourceKind.UploadedArchive, request.ArchiveId),
            StartImportRequest.SourceOneofCase.ExportId => new ImportSource(ImportSourceKind.Export, request.ExportId),
            StartImportRequest.SourceOneofCase.ArchiveUrl => new ImportSource(ImportSourceKind.Url, request.ArchiveUrl),
            _ => throw new ExportException(ExportErrorKind.InvalidArgument, "Set one of archive_id, export_id or archive_url."),
        };
        return (await jobs.StartImportAsync(Owner(context), source, request.DryRun, Activity.Current?.Id, context.CancellationToken).ConfigureAwait(false)).ToImportProto();
    });

    public override Task<ImportJob> GetImport(GetImportRequest request, ServerCallContext context) => Run(async () =>
        (await jobs.GetAsync(Owner(context), JobKind.Import, request.ImportId, "import_id", context.CancellationToken).ConfigureAwait(false)).ToImportProto());

    public override Task WatchImport(GetImportRequest request, IServerStreamWriter<ImportJob> responseStream, ServerCallContext context) => Run(async () =>
    {
        await foreach (var job in jobs.WatchAsync(Owner(context), JobKind.Import, request.ImportId, "import_id", context.CancellationToken).ConfigureAwait(false))
        {
            await responseStream.WriteAsync(job.ToImportProto(), context.CancellationToken).ConfigureAwait(false);
        }
    });

    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> Chunks(IAsyncStreamReader<UploadArchiveRequest> requests, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (await requests.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            yield return requests.Current.Chunk.Memory;
        }
    }

    /// <summary>
    /// The owner is the verified token's subject (the authentication middleware refused a missing or
    /// bad token already). It names S3 keys and Redis entries, so it must also be a safe name.
    /// </summary>
    private static string Owner(ServerCallContext context)
    {
        var owner = context.Caller().Subject;
        return OwnerNames.IsValid(owner)
            ? owner
            : throw new RpcException(new Status(StatusCode.Unauthenticated, $"the token's subject (the owner) must be {OwnerNames.Rule}."));
    }

    /// <summary>
    /// expires_in as a TimeSpan, null when unset or zero (the default). Checked first: ToTimeSpan throws
    /// on a Duration outside protobuf's range, which would answer UNKNOWN.
    /// </summary>
    private static TimeSpan? Lifetime(Duration? expiresIn)
    {
        if (expiresIn is null || (expiresIn.Seconds == 0 && expiresIn.Nanos == 0))
        {
            return null;
        }

        var valid = expiresIn.Seconds is >= Duration.MinSeconds and <= Duration.MaxSeconds
            && expiresIn.Nanos is > -Duration.NanosecondsPerSecond and < Duration.NanosecondsPerSecond
            && (expiresIn.Seconds == 0 || expiresIn.Nanos == 0 || (expiresIn.Seconds < 0) == (expiresIn.Nanos < 0));
        return valid
            ? expiresIn.ToTimeSpan()
            : throw new RpcException(new Status(StatusCode.InvalidArgument, "expires_in is not a valid Duration (seconds within ±315576000000, nanos within ±999999999 and of the same sign)."));
    }

    private static Task Run(Func<Task> call) => Run(async () =>
    {
        await call().ConfigureAwait(false);
        return true;
    });

    /// <summary>Maps what the domain and its dependencies throw to a status with a clear message; never UNKNOWN with a stack trace.</summary>
    private static async Task<T> Run<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (ExportException error)
        {
            throw new RpcException(new Status(error.Kind switch
            {
                ExportErrorKind.InvalidArgument => StatusCode.InvalidArgument,
                ExportErrorKind.NotFound => StatusCode.NotFound,
                ExportErrorKind.FailedPrecondition => StatusCode.FailedPrecondition,
                ExportErrorKind.ResourceExhausted => StatusCode.ResourceExhausted,
                ExportErrorKind.PermissionDenied => StatusCode.PermissionDenied,
                ExportErrorKind.Aborted => StatusCode.Aborted,
                _ => StatusCode.Unknown,
            }, error.Message));
        }
        catch (Caching.Coordination.CoordinationUnavailableException error)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, error.Message));
        }
        catch (Exception error) when (error is StackExchange.Redis.RedisException or StackExchange.Redis.RedisTimeoutException)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"job store unreachable: {error.Message}"));
        }
        catch (AmazonS3Exception error) when (error.StatusCode == HttpStatusCode.NotFound || error.ErrorCode == "NoSuchKey")
        {
            // The sweeper deleted the archive (it expired) between the job's check and the read.
            throw new RpcException(new Status(StatusCode.FailedPrecondition, "the archive is gone (expired)."));
        }
        catch (AmazonServiceException error)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"S3 answered {(int)error.StatusCode} {error.ErrorCode}: {error.Message}"));
        }
        catch (AmazonClientException error)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"S3 could not be reached: {error.Message}"));
        }
        catch (IOException error)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"Reading the archive from S3 failed: {error.Message}"));
        }
    }
}
