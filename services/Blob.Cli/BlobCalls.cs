using Google.Protobuf;
using Grpc.Core;
using Microservices.Blob.Digests;
using Microservices.Blob.V1;

namespace Microservices.Blob.Cli;

/// <summary>The blob service's calls the CLI makes, over the generated client, as one owner.</summary>
internal sealed class BlobCalls(BlobService.BlobServiceClient client, string owner)
{
    public const int ChunkSize = 1024 * 1024;
    public const int BatchUploadMax = 1024 * 1024;
    private const int MaxResumes = 5;

    private CallOptions Options(CancellationToken cancellationToken) =>
        new(headers: new Metadata { { "x-owner-id", owner } }, cancellationToken: cancellationToken);

    public static V1.Digest ToProto(BlobDigest digest) => new() { Hash = digest.Hash, SizeBytes = digest.Size };

    public async Task<bool> IsMissingAsync(BlobDigest digest, CancellationToken cancellationToken)
    {
        var response = await client.FindMissingAsync(new FindMissingRequest { Digests = { ToProto(digest) } }, Options(cancellationToken)).ConfigureAwait(false);
        return response.MissingDigests.Count > 0;
    }

    public async Task<BlobInfo> StatAsync(BlobDigest digest, CancellationToken cancellationToken) =>
        await client.StatAsync(new StatRequest { Digest = ToProto(digest) }, Options(cancellationToken)).ConfigureAwait(false);

    public async Task<AddReferencesResponse> AddReferenceAsync(string traceId, string eventId, BlobDigest digest, CancellationToken cancellationToken) =>
        await client.AddReferencesAsync(
            new AddReferencesRequest { References = { new Reference { TraceId = traceId, EventId = eventId, Digest = ToProto(digest) } } }, Options(cancellationToken)).ConfigureAwait(false);

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
            catch (RpcException error) when (attempt < MaxResumes && error.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Cancelled or StatusCode.DeadlineExceeded && !cancellationToken.IsCancellationRequested)
            {
                // A broken call: ask where the server stands and go on from there.
            }

            state = await client.QueryUploadAsync(new QueryUploadRequest { UploadId = state.UploadId }, Options(cancellationToken)).ConfigureAwait(false);
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

    private async Task<UploadStatus> SendFromAsync(string uploadId, long offset, Stream content, long size, Action<long>? progress, CancellationToken cancellationToken)
    {
        content.Seek(offset, SeekOrigin.Begin);
        using var call = client.Upload(Options(cancellationToken));
        var buffer = new byte[ChunkSize];
        var first = true;
        while (offset < size)
        {
            var read = await content.ReadAtLeastAsync(buffer, (int)Math.Min(buffer.Length, size - offset), throwOnEndOfStream: true, cancellationToken).ConfigureAwait(false);
            await call.RequestStream.WriteAsync(new UploadRequest
            {
                UploadId = first ? uploadId : "",
                WriteOffset = offset,
                Data = ByteString.CopyFrom(buffer, 0, read),
                Finish = offset + read == size,
            }, cancellationToken).ConfigureAwait(false);
            first = false;
            offset += read;
            progress?.Invoke(read);
        }

        await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        return await call.ResponseAsync.ConfigureAwait(false);
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
