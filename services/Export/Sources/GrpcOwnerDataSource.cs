using Google.Protobuf;
using Grpc.Core;
using Microservices.Blob.V1;
using Microservices.Export.Delegation;
using Microservices.Export.Jobs;
using Microservices.Registry.V1;

namespace Microservices.Export.Sources;

/// <summary>
/// Reads an owner's data from registry (paged List) and blob (ListBlobs, ListReferences, BatchRead,
/// ranged Download) with a token delegated for the job, every call retried on transient failures. Each line is the item's protobuf
/// JSON with the contract's field names, which is what an import parses back.
/// </summary>
internal sealed class GrpcOwnerDataSource(
    ModelRegistry.ModelRegistryClient registry,
    BlobService.BlobServiceClient blobs,
    DependencyRetry retry,
    JobCredentials credentials,
    SourceOptions options) : IOwnerDataSource
{
    internal static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithPreserveProtoFieldNames(true));

    public long BatchReadBytes => 3L * 1024 * 1024;

    // Minted per attempt: a retry late in a long job carries a fresh token.
    private Metadata As(JobIdentity job) => credentials.Headers(job);

    private DateTime Deadline => DateTime.UtcNow.Add(options.CallTimeout);

    public async Task<OwnerTotals> CountAsync(JobIdentity job, CancellationToken cancellationToken)
    {
        var models = await retry.ExecuteAsync("registry", async ct => await registry.ListAsync(
            new ListModelsRequest { Owner = job.Owner, PageSize = 1, IncludeTotalCount = true }, As(job), Deadline, ct), cancellationToken).ConfigureAwait(false);
        var blobPage = await retry.ExecuteAsync("blob", async ct => await blobs.ListBlobsAsync(
            new ListBlobsRequest { PageSize = 1 }, As(job), Deadline, ct), cancellationToken).ConfigureAwait(false);
        return new OwnerTotals(models.TotalCount, blobPage.TotalCount, blobPage.TotalSizeBytes);
    }

    public async Task<LinesPage> ModelsAsync(JobIdentity job, string pageToken, CancellationToken cancellationToken)
    {
        var page = await retry.ExecuteAsync("registry", async ct => await registry.ListAsync(
            new ListModelsRequest { Owner = job.Owner, PageSize = options.PageSize, PageToken = pageToken }, As(job), Deadline, ct), cancellationToken).ConfigureAwait(false);
        return new LinesPage([.. page.Models.Select(m => Json.Format(m))], page.NextPageToken);
    }

    public async Task<BlobPage> BlobsAsync(JobIdentity job, string pageToken, CancellationToken cancellationToken)
    {
        var page = await retry.ExecuteAsync("blob", async ct => await blobs.ListBlobsAsync(
            new ListBlobsRequest { PageSize = options.PageSize, PageToken = pageToken }, As(job), Deadline, ct), cancellationToken).ConfigureAwait(false);
        return new BlobPage(
            [.. page.Blobs.Select(b => new BlobItem(b.Digest.Hash, b.Digest.SizeBytes, b.Compression == Compression.Brotli))],
            [.. page.Blobs.Select(m => Json.Format(m))],
            page.NextPageToken);
    }

    public async Task<LinesPage> ReferencesAsync(JobIdentity job, string pageToken, CancellationToken cancellationToken)
    {
        var page = await retry.ExecuteAsync("blob", async ct => await blobs.ListReferencesAsync(
            new ListReferencesRequest { PageSize = options.PageSize, PageToken = pageToken }, As(job), Deadline, ct), cancellationToken).ConfigureAwait(false);
        return new LinesPage([.. page.References.Select(m => Json.Format(m))], page.NextPageToken);
    }

    public async Task<IReadOnlyDictionary<string, ReadOnlyMemory<byte>>> ReadBlobsAsync(JobIdentity job, IReadOnlyList<BlobItem> items, CancellationToken cancellationToken)
    {
        var request = new BatchReadRequest();
        request.Digests.AddRange(items.Select(b => new Digest { Hash = b.Hash, SizeBytes = b.Size }));
        // An item's own status is checked inside the retry: one that failed for a passing reason
        // (the blob service's storage restarting) makes the whole batch read again.
        return await retry.ExecuteAsync("blob", async ct =>
        {
            var response = await blobs.BatchReadAsync(request, As(job), Deadline, ct);
            var found = new Dictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal);
            foreach (var result in response.Results)
            {
                switch ((StatusCode)result.Status.Code)
                {
                    case StatusCode.OK:
                        found[result.Digest.Hash] = result.Data.Memory;
                        break;
                    case StatusCode.NotFound:
                        break;
                    default:
                        throw new RpcException(new Status((StatusCode)result.Status.Code, $"BatchRead of {result.Digest.Hash}: {result.Status.Message}"));
                }
            }

            return (IReadOnlyDictionary<string, ReadOnlyMemory<byte>>)found;
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ReadOnlyMemory<byte>?> ReadRangeAsync(JobIdentity job, BlobItem blob, long offset, int length, CancellationToken cancellationToken)
    {
        try
        {
            return await retry.ExecuteAsync("blob", async ct =>
            {
                var buffer = new byte[length];
                var filled = 0;
                using var call = blobs.Download(
                    new DownloadRequest { Digest = new Digest { Hash = blob.Hash, SizeBytes = blob.Size }, Offset = offset, Limit = length },
                    As(job), Deadline, ct);
                await foreach (var message in call.ResponseStream.ReadAllAsync(ct).ConfigureAwait(false))
                {
                    if (filled + message.Data.Length > length)
                    {
                        throw new RpcException(new Status(StatusCode.Internal, $"Download of {blob.Hash} returned more than the {length} bytes asked for."));
                    }

                    message.Data.Span.CopyTo(buffer.AsSpan(filled));
                    filled += message.Data.Length;
                }

                return filled == length
                    ? (ReadOnlyMemory<byte>?)buffer
                    : throw new RpcException(new Status(StatusCode.Unavailable, $"Download of {blob.Hash} ended after {filled} of {length} bytes."));
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException error) when (error.StatusCode == StatusCode.NotFound)
        {
            return null;
        }
    }
}

/// <summary>Export:Source settings.</summary>
internal sealed class SourceOptions
{
    /// <summary>Items per List page (registry serves at most 500, blob at most 1000).</summary>
    public int PageSize { get; set; } = 500;

    /// <summary>Deadline of each call into registry or blob.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(60);
}
