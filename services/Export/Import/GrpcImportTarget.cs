using Google.Protobuf;
using Grpc.Core;
using Microservices.Blob.V1;
using Microservices.Export.Delegation;
using Microservices.Export.Jobs;
using Microservices.Export.Sources;
using Microservices.Registry.V1;

namespace Microservices.Export.Import;

/// <summary>
/// Writes an import through registry's ImportModels and blob's FindMissing, BatchUpload, Upload and
/// AddReferences with a token delegated for the job, retried on transient failures.
/// </summary>
internal sealed class GrpcImportTarget(
    ModelRegistry.ModelRegistryClient registry,
    BlobService.BlobServiceClient blobs,
    DependencyRetry retry,
    JobCredentials credentials,
    SourceOptions options) : IImportTarget
{
    private readonly DependencyRetry _retry = retry;
    private readonly BlobService.BlobServiceClient _blobs = blobs;

    private const int ModelsPerMessage = 500;
    private const int ReferencesPerCall = 1000;
    private const int UploadMessageBytes = 1024 * 1024;
    private static readonly JsonParser Json = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    public long BatchUploadBytes => 3L * 1024 * 1024;

    // Minted per attempt: a retry late in a long job carries a fresh token.
    private Metadata As(JobIdentity job) => credentials.Headers(job);

    private DateTime Deadline => DateTime.UtcNow.Add(options.CallTimeout);

    public async Task<ModelImportResult> ImportModelsAsync(JobIdentity job, bool dryRun, IAsyncEnumerable<IReadOnlyList<string>> pages, CancellationToken cancellationToken)
    {
        // One client stream = one transaction; it cannot be retried halfway, so it is not retried at all.
        using var call = registry.ImportModels(As(job), deadline: DateTime.UtcNow.AddMinutes(30), cancellationToken: cancellationToken);
        var first = new ImportModelsRequest { Owner = job.Owner, DryRun = dryRun };
        var sentFirst = false;
        var sentModels = 0L;
        await foreach (var page in pages.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            foreach (var batch in page.Chunk(ModelsPerMessage))
            {
                var message = sentFirst ? new ImportModelsRequest { Offset = sentModels } : first;
                message.Models.AddRange(batch.Select(line => Json.Parse<Model>(line)));
                sentModels += batch.Length;
                await SendAsync(call, () => call.RequestStream.WriteAsync(message, cancellationToken), cancellationToken).ConfigureAwait(false);
                sentFirst = true;
            }
        }

        if (!sentFirst)
        {
            await SendAsync(call, () => call.RequestStream.WriteAsync(first, cancellationToken), cancellationToken).ConfigureAwait(false);
        }

        await SendAsync(call, call.RequestStream.CompleteAsync, cancellationToken).ConfigureAwait(false);
        var response = await call.ResponseAsync.ConfigureAwait(false);
        return new ModelImportResult(
            response.Committed,
            response.Imported,
            response.Unchanged,
            [.. response.Conflicts.Select(c => new ImportConflictRecord(c.ModelId, c.Alias, ConflictKindName(c.Kind), c.Message))],
            response.ConflictCount);
    }

    /// <summary>
    /// A write to a call the registry already ended (e.g. INVALID_ARGUMENT naming models[i]) fails as
    /// CANCELLED or "the call is complete"; the registry's own status is in the response.
    /// </summary>
    private static async Task SendAsync(AsyncClientStreamingCall<ImportModelsRequest, ImportModelsResponse> call, Func<Task> send, CancellationToken cancellationToken)
    {
        try
        {
            await send().ConfigureAwait(false);
        }
        catch (Exception error) when (error is RpcException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            await call.ResponseAsync.ConfigureAwait(false);
            throw;
        }
    }

    public async Task<IReadOnlySet<string>> FindMissingAsync(JobIdentity job, IReadOnlyList<ImportBlob> items, CancellationToken cancellationToken)
    {
        var request = new FindMissingRequest();
        request.Digests.AddRange(items.Select(b => new Digest { Hash = b.Hash, SizeBytes = b.Size }));
        var response = await _retry.ExecuteAsync("blob", async ct => await _blobs.FindMissingAsync(request, As(job), Deadline, ct), cancellationToken).ConfigureAwait(false);
        return response.MissingDigests.Select(d => d.Hash).ToHashSet(StringComparer.Ordinal);
    }

    public async Task UploadAsync(JobIdentity job, IReadOnlyList<(ImportBlob Blob, ReadOnlyMemory<byte> Data)> items, CancellationToken cancellationToken)
    {
        var request = new BatchUploadRequest();
        foreach (var (blob, data) in items)
        {
            var item = new BatchUploadRequest.Types.Item
            {
                Digest = new Digest { Hash = blob.Hash, SizeBytes = blob.Size },
                Data = UnsafeByteOperations.UnsafeWrap(data),
                Sensitive = blob.Sensitive,
            };
            foreach (var (key, value) in blob.Labels)
            {
                item.Labels[key] = value;
            }
            request.Items.Add(item);
        }

        // An item can fail alone (UNAVAILABLE, INTERNAL...): the check is inside the retry, so such an
        // item is sent again (and only the failed ones are); an item refused for good fails the import.
        await _retry.ExecuteAsync("blob", async ct =>
        {
            var response = await _blobs.BatchUploadAsync(request, As(job), Deadline, ct).ConfigureAwait(false);
            var failed = response.Results.Where(r => r.Status is { Code: not 0 }).ToList();
            if (failed.Count == 0)
            {
                return;
            }

            var again = new BatchUploadRequest();
            again.Items.AddRange(request.Items.Where(i => failed.Any(f => f.Digest?.Hash == i.Digest.Hash)));
            request = again.Items.Count > 0 ? again : request;
            var errors = failed.Select(f => new RpcException(new Status((StatusCode)f.Status.Code, $"Uploading blob {f.Digest?.Hash}: {f.Status.Message}"))).ToList();
            throw errors.FirstOrDefault(e => !DependencyRetry.IsTransient(e)) ?? errors[0];
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IBlobUpload?> StartUploadAsync(JobIdentity job, ImportBlob blob, CancellationToken cancellationToken)
    {
        var request = new StartUploadRequest { Digest = new Digest { Hash = blob.Hash, SizeBytes = blob.Size }, Sensitive = blob.Sensitive };
        foreach (var (key, value) in blob.Labels)
        {
            request.Labels[key] = value;
        }
        var status = await _retry.ExecuteAsync("blob", async ct => await _blobs.StartUploadAsync(request, As(job), Deadline, ct), cancellationToken).ConfigureAwait(false);
        return status.AlreadyExists || status.Complete ? null : new Upload(this, job, status.UploadId);
    }

    public async Task<long> AddReferencesAsync(JobIdentity job, IReadOnlyList<string> references, CancellationToken cancellationToken)
    {
        long added = 0;
        foreach (var batch in references.Chunk(ReferencesPerCall))
        {
            var request = new AddReferencesRequest();
            request.References.AddRange(batch.Select(line => Json.Parse<Reference>(line)));
            foreach (var reference in request.References)
            {
                reference.CreatedAt = null;
            }

            var response = await _retry.ExecuteAsync("blob", async ct => await _blobs.AddReferencesAsync(request, As(job), Deadline, ct), cancellationToken).ConfigureAwait(false);
            added += response.Added;
        }

        return added;
    }

    private static string ConflictKindName(Registry.V1.ConflictKind kind) => kind switch
    {
        Registry.V1.ConflictKind.ModelExists => nameof(Export.V1.ConflictKind.ModelExists),
        Registry.V1.ConflictKind.AliasTaken => nameof(Export.V1.ConflictKind.AliasTaken),
        _ => nameof(Export.V1.ConflictKind.Unspecified),
    };

    /// <summary>
    /// One Upload call per chunk, each starting at the committed offset: after a broken stream,
    /// QueryUpload says how much arrived and only the rest of the chunk is sent again.
    /// </summary>
    private sealed class Upload(GrpcImportTarget target, JobIdentity job, string uploadId) : IBlobUpload
    {
        public async Task WriteAsync(long offset, ReadOnlyMemory<byte> chunk, bool last, CancellationToken cancellationToken)
        {
            await target._retry.ExecuteAsync("blob", async ct =>
            {
                var status = await target._blobs.QueryUploadAsync(new QueryUploadRequest { UploadId = uploadId }, target.As(job), target.Deadline, ct).ConfigureAwait(false);
                var skip = status.CommittedSize - offset;
                if (skip < 0 || skip > chunk.Length)
                {
                    throw new RpcException(new Status(StatusCode.FailedPrecondition, $"Upload {uploadId} is at {status.CommittedSize}, outside the chunk at {offset}."));
                }

                if (status.Complete || (skip == chunk.Length && !last))
                {
                    return;
                }

                using var call = target._blobs.Upload(target.As(job), target.Deadline, ct);
                var position = (int)skip;
                var firstMessage = true;
                do
                {
                    var size = Math.Min(UploadMessageBytes, chunk.Length - position);
                    await call.RequestStream.WriteAsync(new UploadRequest
                    {
                        UploadId = firstMessage ? uploadId : "",
                        WriteOffset = offset + position,
                        Data = UnsafeByteOperations.UnsafeWrap(chunk.Slice(position, size)),
                        Finish = last && position + size == chunk.Length,
                    }, ct).ConfigureAwait(false);
                    firstMessage = false;
                    position += size;
                }
                while (position < chunk.Length);

                await call.RequestStream.CompleteAsync().ConfigureAwait(false);
                await call.ResponseAsync.ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        }
    }
}
