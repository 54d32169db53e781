using Google.Protobuf;
using Grpc.Core;
using Microservices.Blob.Domain;
using Microservices.Blob.Domain.Traces;
using Microservices.Blob.Extensions;
using Microservices.Blob.Gateway;
using Microservices.Blob.Traces;
using Microservices.Blob.V1;
using Microservices.Hosting.Security;

namespace Microservices.Blob.Grpc;

/// <summary>
/// microservices.blob.v1.BlobService: maps messages to the domain (<see cref="BlobStore"/>,
/// <see cref="UploadSessions"/>, the trace codecs) and domain errors to status codes. No logic of its own.
/// </summary>
internal sealed class BlobGrpcService(BlobStore store, UploadSessions uploads, BlobOptions options, BlobCapability? capability = null) : BlobService.BlobServiceBase
{
    public override Task<FindMissingResponse> FindMissing(FindMissingRequest request, ServerCallContext context) => Run(async () =>
    {
        var owner = Reader(context);
        var digests = request.Digests.Select((d, i) => d.ToDomain($"digests[{i}]")).ToList();
        var missing = await store.FindMissingAsync(owner, digests, context.CancellationToken).ConfigureAwait(false);
        var response = new FindMissingResponse();
        response.MissingDigests.Add(missing.Select(d => d.ToProto()));
        return response;
    });

    public override Task<BatchUploadResponse> BatchUpload(BatchUploadRequest request, ServerCallContext context) => Run(async () =>
    {
        var owner = Writer(context);
        BlobLimits.Check(request.Items.Count, BlobLimits.BatchItems, "items");
        var total = request.Items.Sum(i => (long)i.Data.Length);
        if (total > BlobLimits.BatchTotalBytes)
        {
            throw BlobException.Invalid($"items: at most {BlobLimits.BatchTotalBytes} bytes of data per BatchUpload, got {total}; send large blobs with Upload");
        }

        var response = new BatchUploadResponse();
        for (var i = 0; i < request.Items.Count; i++)
        {
            var item = request.Items[i];
            var result = new BatchUploadResponse.Types.Result { Digest = item.Digest };
            try
            {
                var digest = item.Digest.ToDomain($"items[{i}].digest");
                BlobLimits.CheckBlobSize(digest.Size, options.Limits.MaxBlobBytes, $"items[{i}].digest");
                using var content = new MemoryStream(item.Data.Memory.ToArray(), writable: false);
                await store.PutAsync(owner, digest, content, item.Sensitive, Validation.Labels(item.Labels), context.CancellationToken).ConfigureAwait(false);
                result.Status = ProtoMapping.Ok();
            }
            catch (BlobException error)
            {
                result.Status = error.ToItemStatus();
            }

            response.Results.Add(result);
        }

        return response;
    });

    public override Task<BatchReadResponse> BatchRead(BatchReadRequest request, ServerCallContext context) => Run(async () =>
    {
        var owner = Reader(context);
        BlobLimits.Check(request.Digests.Count, BlobLimits.BatchItems, "digests");
        var response = new BatchReadResponse();
        long total = 0;
        for (var i = 0; i < request.Digests.Count; i++)
        {
            var result = new BatchReadResponse.Types.Result { Digest = request.Digests[i] };
            try
            {
                var digest = request.Digests[i].ToDomain($"digests[{i}]");
                if (total + digest.Size > BlobLimits.BatchTotalBytes)
                {
                    throw new BlobException(BlobErrorKind.ResourceExhausted, $"BatchRead returns at most {BlobLimits.BatchTotalBytes} bytes in total; read this blob with Download");
                }

                var (_, content) = await store.OpenReadAsync(owner, digest, context.CancellationToken).ConfigureAwait(false);
                await using (content)
                {
                    var data = new MemoryStream((int)digest.Size);
                    await content.CopyToAsync(data, context.CancellationToken).ConfigureAwait(false);
                    result.Data = ByteString.CopyFrom(data.GetBuffer(), 0, (int)data.Length);
                }

                total += digest.Size;
                result.Status = ProtoMapping.Ok();
            }
            catch (BlobException error)
            {
                result.Status = error.ToItemStatus();
            }

            response.Results.Add(result);
        }

        return response;
    });

    public override Task<UploadStatus> StartUpload(StartUploadRequest request, ServerCallContext context) => Run(async () =>
    {
        var owner = Writer(context);
        var digest = request.Digest.ToDomain("digest");
        BlobLimits.CheckBlobSize(digest.Size, options.Limits.MaxBlobBytes, "digest");
        var state = await uploads.StartAsync(owner, digest, request.Sensitive, Validation.Labels(request.Labels), context.CancellationToken).ConfigureAwait(false);
        return ToProto(state);
    });

    public override Task<UploadStatus> Upload(IAsyncStreamReader<UploadRequest> requests, ServerCallContext context) => Run(async () =>
    {
        var owner = Writer(context);
        var token = context.CancellationToken;
        if (!await requests.MoveNext(token).ConfigureAwait(false))
        {
            throw BlobException.Invalid("Upload needs at least one message naming upload_id");
        }

        var first = requests.Current;
        await using var writer = await uploads.OpenWriterAsync(owner, first.UploadId, token).ConfigureAwait(false);
        var message = first;
        var finish = false;
        while (true)
        {
            if (!string.IsNullOrEmpty(message.UploadId) && message.UploadId != first.UploadId)
            {
                throw BlobException.Invalid("upload_id must not change within one Upload call");
            }

            if (!message.Data.IsEmpty)
            {
                await writer.AppendAsync(message.WriteOffset, message.Data.Memory, token).ConfigureAwait(false);
            }

            finish |= message.Finish;
            if (!await requests.MoveNext(token).ConfigureAwait(false))
            {
                break;
            }

            message = requests.Current;
        }

        return ToProto(await writer.CompleteAsync(finish, token).ConfigureAwait(false));
    });

    public override Task<UploadStatus> QueryUpload(QueryUploadRequest request, ServerCallContext context) => Run(async () =>
        ToProto(await uploads.QueryAsync(Writer(context), request.UploadId, context.CancellationToken).ConfigureAwait(false)));

    public override Task Download(DownloadRequest request, IServerStreamWriter<DownloadResponse> responses, ServerCallContext context) => Run(async () =>
    {
        var owner = Reader(context);
        var digest = request.Digest.ToDomain("digest");
        if (request.Offset < 0 || request.Offset > digest.Size)
        {
            throw BlobException.Invalid($"offset must be 0..{digest.Size}, got {request.Offset}");
        }

        if (request.Limit < 0)
        {
            throw BlobException.Invalid($"limit must not be negative, got {request.Limit}");
        }

        var (_, content) = await store.OpenReadAsync(owner, digest, context.CancellationToken).ConfigureAwait(false);
        await using (content)
        {
            await BlobStreaming.SkipAsync(content, request.Offset, context.CancellationToken).ConfigureAwait(false);
            var remaining = request.Limit == 0 ? digest.Size - request.Offset : Math.Min(request.Limit, digest.Size - request.Offset);
            var buffer = new byte[BlobLimits.DownloadChunk];
            while (remaining > 0)
            {
                var read = await content.ReadAtLeastAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), (int)Math.Min(buffer.Length, remaining), throwOnEndOfStream: false, context.CancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new BlobException(BlobErrorKind.DataLoss, $"stored bytes of sha256:{digest.Hash} end early");
                }

                await responses.WriteAsync(new DownloadResponse { Data = ByteString.CopyFrom(buffer, 0, read) }, context.CancellationToken).ConfigureAwait(false);
                remaining -= read;
            }
        }

        return 0;
    });

    public override Task<BlobInfo> Stat(StatRequest request, ServerCallContext context) => Run(async () =>
        (await store.StatAsync(Reader(context), request.Digest.ToDomain("digest"), context.CancellationToken).ConfigureAwait(false)).ToProto());

    public override Task<BatchStatResponse> BatchStat(BatchStatRequest request, ServerCallContext context) => Run(async () =>
    {
        var owner = Reader(context);
        BlobLimits.Check(request.Digests.Count, BlobLimits.BatchItems, "digests");
        var response = new BatchStatResponse();
        for (var i = 0; i < request.Digests.Count; i++)
        {
            var result = new BatchStatResponse.Types.Result { Digest = request.Digests[i] };
            try
            {
                result.Blob = (await store.StatAsync(owner, request.Digests[i].ToDomain($"digests[{i}]"), context.CancellationToken).ConfigureAwait(false)).ToProto();
                result.Status = ProtoMapping.Ok();
            }
            catch (BlobException error)
            {
                result.Status = error.ToItemStatus();
            }

            response.Results.Add(result);
        }

        return response;
    });

    public override Task<AddReferencesResponse> AddReferences(AddReferencesRequest request, ServerCallContext context) => Run(async () =>
    {
        var owner = Writer(context);
        BlobLimits.Check(request.References.Count, BlobLimits.References, "references");
        var added = await store.AddReferencesAsync(owner, request.References.ToDomain(), context.CancellationToken).ConfigureAwait(false);
        return new AddReferencesResponse { Added = added };
    });

    public override Task<RemoveReferencesResponse> RemoveReferences(RemoveReferencesRequest request, ServerCallContext context) => Run(async () =>
    {
        var owner = Writer(context);
        BlobLimits.Check(request.References.Count, BlobLimits.References, "references");
        var removed = await store.RemoveReferencesAsync(owner, request.References.ToDomain(), context.CancellationToken).ConfigureAwait(false);
        return new RemoveReferencesResponse { Removed = removed };
    });

    public override Task<ListReferencesResponse> ListReferences(ListReferencesRequest request, ServerCallContext context) => Run(async () =>
    {
        var owner = Reader(context);
        var traceId = string.IsNullOrEmpty(request.TraceId) ? null : Validation.Id(request.TraceId, "trace_id");
        var page = await store.ListReferencesAsync(owner, traceId, request.DigestHash, request.PageSize, request.PageToken, context.CancellationToken).ConfigureAwait(false);
        var response = new ListReferencesResponse { NextPageToken = page.NextPageToken ?? "" };
        response.References.Add(page.References.Select(r => r.ToProto()));
        return response;
    });

    public override Task<ListBlobsResponse> ListBlobs(ListBlobsRequest request, ServerCallContext context) => Run(async () =>
        (await store.ListBlobsAsync(Reader(context), request.PageSize, request.PageToken, context.CancellationToken).ConfigureAwait(false)).ToProto());

    public override Task OffloadTrace(IAsyncStreamReader<TraceChunk> requests, IServerStreamWriter<TraceChunk> responses, ServerCallContext context) => Run(async () =>
    {
        var owner = Writer(context);
        var token = context.CancellationToken;
        var header = await ReadHeaderAsync(requests, token).ConfigureAwait(false);
        var traceId = Validation.Id(header.TraceId, "header.trace_id");
        var gateway = string.IsNullOrEmpty(header.GatewayUrl) ? options.Gateway.PublicUrl : header.GatewayUrl;
        if (!Uri.TryCreate(gateway, UriKind.Absolute, out var gatewayUri) || gatewayUri.Scheme is not ("http" or "https") || gateway.Length > BlobReference.MaxGatewayLength
            || gateway.Any(c => c <= ' ' || "\"'()<>[]`\\{}|^".Contains(c)))
        {
            throw BlobException.Invalid($"header.gateway_url must be an absolute http(s) URL of at most {BlobReference.MaxGatewayLength} characters without spaces, quotes or brackets");
        }

        var output = new TraceChunkWriteStream(responses);
        var offloader = new TraceOffloader(new StoreTraceSink(store, owner, traceId, header.Sensitive), new OffloadOptions(gateway, header.Strict)
        {
            MaxPayloadBytes = Math.Min(options.Limits.MaxDataUriBytes, options.Limits.MaxBlobBytes),
            PayloadLimitName = options.Limits.MaxDataUriBytes <= options.Limits.MaxBlobBytes ? "Blob:Limits:MaxDataUriBytes" : "Blob:Limits:MaxBlobBytes",
            // Browsers rendering the trace carry no token: each reference carries the owner's read right.
            Capability = capability is null ? null : digest => capability.Query(owner, digest.Hash, options.Gateway.CapabilityLifetime),
        });
        var summary = await offloader.OffloadAsync(new TraceChunkReadStream(requests), output, token).ConfigureAwait(false);
        await responses.WriteAsync(new TraceChunk
        {
            Summary = new TraceChunk.Types.Summary
            {
                InputBytes = summary.InputBytes,
                OutputBytes = summary.OutputBytes,
                DataUris = summary.DataUris,
                Offloaded = summary.Offloaded,
                Stored = summary.Stored,
                StoredBytes = summary.StoredBytes,
                LeftInline = summary.LeftInline,
            },
        }, token).ConfigureAwait(false);
        return 0;
    });

    public override Task HydrateTrace(IAsyncStreamReader<TraceChunk> requests, IServerStreamWriter<TraceChunk> responses, ServerCallContext context) => Run(async () =>
    {
        var owner = Reader(context);
        var token = context.CancellationToken;
        var header = await ReadHeaderAsync(requests, token).ConfigureAwait(false);
        var output = new TraceChunkWriteStream(responses);
        var summary = await new TraceHydrator(new StoreTraceSource(store, owner), header.KeepMissing).HydrateAsync(new TraceChunkReadStream(requests), output, token).ConfigureAwait(false);
        await responses.WriteAsync(new TraceChunk
        {
            Summary = new TraceChunk.Types.Summary { InputBytes = summary.InputBytes, OutputBytes = summary.OutputBytes, Offloaded = summary.References, Missing = summary.Missing },
        }, token).ConfigureAwait(false);
        return 0;
    });

    private static async Task<TraceChunk.Types.Header> ReadHeaderAsync(IAsyncStreamReader<TraceChunk> requests, CancellationToken cancellationToken)
    {
        if (!await requests.MoveNext(cancellationToken).ConfigureAwait(false) || requests.Current.KindCase != TraceChunk.KindOneofCase.Header)
        {
            throw BlobException.Invalid("the first TraceChunk must be the header");
        }

        return requests.Current.Header;
    }

    // The owner is the token's subject; a token delegated to the export reads or writes only as its scope says.
    private static string Reader(ServerCallContext context) => Owner(context, "blob.read");

    private static string Writer(ServerCallContext context) => Owner(context, "blob.write");

    private static string Owner(ServerCallContext context, string scope)
    {
        var caller = context.Caller();
        caller.RequireScope(scope);
        return Validation.Owner(caller.Subject);
    }

    private static UploadStatus ToProto(UploadSessions.UploadState state)
    {
        var status = new UploadStatus
        {
            UploadId = state.UploadId,
            Digest = state.Digest.ToProto(),
            CommittedSize = state.Committed,
            Complete = state.Complete,
            AlreadyExists = state.AlreadyExists,
        };
        if (state.Blob is not null)
        {
            status.Blob = state.Blob.ToProto();
        }

        return status;
    }

    /// <summary>Domain refusals become statuses with their message; nothing else leaks.</summary>
    private static async Task<T> Run<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (BlobException error)
        {
            throw new RpcException(new Status(error.Kind.ToStatusCode(), error.Message));
        }
        catch (InvalidTracePayloadException error)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, error.Message));
        }
        catch (OversizedTracePayloadException error)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted, error.Message));
        }
        catch (MissingTraceBlobException error)
        {
            throw new RpcException(new Status(StatusCode.NotFound, error.Message));
        }
    }
}
