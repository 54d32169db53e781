using Google.Protobuf;
using Grpc.Core;
using Microservices.Blob.Digests;
using Microservices.Blob.V1;
using Microservices.Clients;

namespace Microservices.Blob.Cli;

/// <summary>The blob service's calls the CLI makes, over the generated client, with the caller's bearer token (its subject is the owner).</summary>
internal sealed class BlobCalls(BlobService.BlobServiceClient client, Metadata authorization)
{
    public const int ChunkSize = 1024 * 1024;
    public const int BatchUploadMax = 1024 * 1024;
    private const int MaxResumes = 5;

    private CallOptions Options(CancellationToken cancellationToken) =>
        new(headers: authorization, cancellationToken: cancellationToken);

    public static V1.Digest ToProto(BlobDigest digest) => new() { Hash = digest.Hash, SizeBytes = digest.Size };

    public async Task<BlobInfo> StatAsync(BlobDigest digest, CancellationToken cancellationToken) =>
        await client.StatAsync(new StatRequest { Digest = ToProto(digest) }, Options(cancellationToken)).ConfigureAwait(false);

    /// <summary>Uploads a blob: inline if small, else a resumable upload that resumes after a broken call.</summary>
    public async Task UploadAsync(BlobDigest digest, Stream content, bool sensitive, IReadOnlyDictionary<string, string> labels, Action<long>? progress, CancellationToken cancellationToken)
    {
        if (digest.Size <= BatchUploadMax)
        {
            var data = new byte[digest.Size];
            await content.ReadExactlyAsync(data, cancellationToken).ConfigureAwait(false);
            // The array is ours and never changes: wrap it instead of copying it again.
            var item = new BatchUploadRequest.Types.Item { Digest = ToProto(digest), Data = UnsafeByteOperations.UnsafeWrap(data), Sensitive = sensitive };
            foreach (var (key, value) in labels)
            {
                item.Labels[key] = value;
            }

            var response = await client.BatchUploadAsync(new BatchUploadRequest { Items = { item } }, Options(cancellationToken)).ConfigureAwait(false);
            var status = response.Results[0].Status;
            if (status.Code != 0)
            {
                throw new RpcException(new Status((StatusCode)status.Code, status.Message));
            }

            progress?.Invoke(digest.Size);
            return;
        }

        var start = new StartUploadRequest { Digest = ToProto(digest), Sensitive = sensitive };
        foreach (var (key, value) in labels)
        {
            start.Labels[key] = value;
        }

        var state = await client.StartUploadAsync(start, Options(cancellationToken)).ConfigureAwait(false);
        if (state.AlreadyExists)
        {
            progress?.Invoke(digest.Size);
            return;
        }

        for (var attempt = 0; ; attempt++)
        {
            try
            {
                state = await SendFromAsync(state.UploadId, state.CommittedSize, content, digest.Size, progress, cancellationToken).ConfigureAwait(false);
                if (state.Complete)
                {
                    return;
                }
            }
            catch (Exception error) when (attempt < MaxResumes && BrokenCall(error) && !cancellationToken.IsCancellationRequested)
            {
                // A broken call: ask where the server stands and go on from there.
            }
            catch (RpcException error) when (attempt < MaxResumes && error.StatusCode == StatusCode.FailedPrecondition)
            {
                state = await StartAgainAsync(start, cancellationToken).ConfigureAwait(false);
                continue;
            }

            try
            {
                state = await client.QueryUploadAsync(new QueryUploadRequest { UploadId = state.UploadId }, Options(cancellationToken)).ConfigureAwait(false);
            }
            catch (RpcException error) when (attempt < MaxResumes && error.StatusCode == StatusCode.FailedPrecondition)
            {
                state = await StartAgainAsync(start, cancellationToken).ConfigureAwait(false);
            }

            if (state.Complete)
            {
                return;
            }

            if (attempt >= MaxResumes)
            {
                throw new InvalidOperationException($"upload {state.UploadId} stopped at {state.CommittedSize} of {digest.Size} bytes after {MaxResumes} resumes");
            }
        }
    }

    /// <summary>
    /// A call the connection broke under: a transient status, or (a write to a stream whose
    /// connection was reset) the transport's own IOException or HTTP/2 error, not an RpcException.
    /// </summary>
    private static bool BrokenCall(Exception error) => error switch
    {
        RpcException rpc => rpc.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Cancelled or StatusCode.DeadlineExceeded,
        _ => error is IOException or System.Net.Http.HttpRequestException or System.Net.Http.HttpProtocolException,
    };

    /// <summary>
    /// A new upload of the same blob, from its first byte. With several replicas balanced per
    /// connection, a reconnect can reach one that does not keep this upload's parts (they stay on
    /// the replica that started it): FAILED_PRECONDITION. Beginning anew there is the only way on.
    /// A blob that meanwhile exists (the first replica finished it) comes back Complete.
    /// </summary>
    private async Task<UploadStatus> StartAgainAsync(StartUploadRequest start, CancellationToken cancellationToken)
    {
        var state = await client.StartUploadAsync(start, Options(cancellationToken)).ConfigureAwait(false);
        return state.AlreadyExists ? new UploadStatus(state) { Complete = true } : state;
    }

    private async Task<UploadStatus> SendFromAsync(string uploadId, long offset, Stream content, long size, Action<long>? progress, CancellationToken cancellationToken)
    {
        content.Seek(offset, SeekOrigin.Begin);
        using var stall = new StallGuard(StallGuard.DefaultLimit, cancellationToken);
        using var call = client.Upload(Options(stall.Token));
        var buffer = new byte[ChunkSize];
        var first = true;
        try
        {
            // At least one message: a resume that finds every byte committed (the last call broke
            // while the server was finishing) must still ask it to finish.
            do
            {
                var read = offset < size
                    ? await content.ReadAtLeastAsync(buffer, (int)Math.Min(buffer.Length, size - offset), throwOnEndOfStream: true, cancellationToken).ConfigureAwait(false)
                    : 0;
                await call.RequestStream.WriteAsync(new UploadRequest
                {
                    UploadId = first ? uploadId : "",
                    WriteOffset = offset,
                    Data = ByteString.CopyFrom(buffer, 0, read),
                    Finish = offset + read == size,
                }, stall.Token).ConfigureAwait(false);
                stall.Progressed();
                first = false;
                offset += read;
                progress?.Invoke(read);
            }
            while (offset < size);

            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            stall.Progressed(FinishingTime(size));
            return await call.ResponseAsync.ConfigureAwait(false);
        }
        catch (Exception) when (stall.Stalled)
        {
            // A broken call like any other: the caller asks where the upload stands and resumes.
            throw stall.Error("Upload");
        }
    }

    /// <summary>After the last byte the server reads the blob again to verify, encode and store it: allow it 8 MiB/s.</summary>
    private static TimeSpan FinishingTime(long size) => StallGuard.DefaultLimit + TimeSpan.FromSeconds(size / (8.0 * 1024 * 1024));

    /// <summary>
    /// Streams the trace through OffloadTrace and the slim trace back into <paramref name="slim"/>:
    /// the service offloads it, so every reference carries the gateway capability only the service
    /// can sign (a browser opening the link has no token). Returns the service's summary.
    /// </summary>
    public async Task<TraceChunk.Types.Summary> OffloadTraceAsync(Stream trace, Stream slim, TraceChunk.Types.Header header, CancellationToken cancellationToken)
    {
        using var stall = new StallGuard(StallGuard.DefaultLimit, cancellationToken);
        using var call = client.OffloadTrace(Options(stall.Token));
        var send = SendAsync();
        TraceChunk.Types.Summary? summary = null;
        try
        {
            while (await call.ResponseStream.MoveNext(stall.Token).ConfigureAwait(false))
            {
                stall.Progressed();
                var message = call.ResponseStream.Current;
                if (message.KindCase == TraceChunk.KindOneofCase.Data)
                {
                    await slim.WriteAsync(message.Data.Memory, cancellationToken).ConfigureAwait(false);
                }
                else if (message.KindCase == TraceChunk.KindOneofCase.Summary)
                {
                    summary = message.Summary;
                }
            }
        }
        catch (Exception) when (stall.Stalled)
        {
            await send.ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
            throw stall.Error("OffloadTrace");
        }
        catch
        {
            // The call's status is the error to report; the send loop only failed because the call ended.
            await send.ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
            throw;
        }

        await send.ConfigureAwait(false);
        return summary ?? throw new InvalidOperationException("the service ended OffloadTrace without a summary");

        async Task SendAsync()
        {
            await call.RequestStream.WriteAsync(new TraceChunk { Header = header }, stall.Token).ConfigureAwait(false);
            var buffer = new byte[ChunkSize];
            int read;
            while ((read = await trace.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await call.RequestStream.WriteAsync(new TraceChunk { Data = ByteString.CopyFrom(buffer, 0, read) }, stall.Token).ConfigureAwait(false);
                stall.Progressed();
            }

            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Streams a blob's bytes into <paramref name="output"/>.</summary>
    public async Task DownloadAsync(BlobDigest digest, Stream output, Action<long>? progress, CancellationToken cancellationToken)
    {
        using var call = client.Download(new DownloadRequest { Digest = ToProto(digest) }, Options(cancellationToken));
        while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            var data = call.ResponseStream.Current.Data;
            await output.WriteAsync(data.Memory, cancellationToken).ConfigureAwait(false);
            progress?.Invoke(data.Length);
        }
    }
}
