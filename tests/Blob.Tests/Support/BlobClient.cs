using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microservices.Blob.Digests;
using Microservices.Blob.V1;

namespace Microservices.Blob.Tests.Support;

/// <summary>Typed calls of microservices.blob.v1.BlobService over the generated client, as one owner, for the tests.</summary>
internal sealed class BlobClient(GrpcChannel channel, Func<CallOptions> options)
{
    public BlobClient(GrpcChannel channel, string owner)
        : this(channel, () => BlobHost.As(owner))
    {
    }

    public BlobService.BlobServiceClient Raw { get; } = new(channel);

    public CallOptions Options => options();

    public static V1.Digest D(byte[] data) => new() { Hash = BlobDigest.Of(data).Hash, SizeBytes = data.Length };

    public async Task<FindMissingResponse> FindMissingAsync(params byte[][] blobs)
    {
        var request = new FindMissingRequest();
        request.Digests.Add(blobs.Select(D));
        return await Raw.FindMissingAsync(request, Options);
    }

    public async Task<BatchUploadResponse> BatchUploadAsync(BatchUploadRequest request) => await Raw.BatchUploadAsync(request, Options);

    public async Task PutAsync(byte[] data, bool sensitive = false)
    {
        var request = new BatchUploadRequest();
        request.Items.Add(new BatchUploadRequest.Types.Item { Digest = D(data), Data = ByteString.CopyFrom(data), Sensitive = sensitive });
        var response = await BatchUploadAsync(request);
        Assert.Equal(0, response.Results[0].Status.Code);
    }

    public async Task<BatchReadResponse> BatchReadAsync(params V1.Digest[] digests)
    {
        var request = new BatchReadRequest();
        request.Digests.Add(digests);
        return await Raw.BatchReadAsync(request, Options);
    }

    public async Task<BlobInfo> StatAsync(V1.Digest digest) => await Raw.StatAsync(new StatRequest { Digest = digest }, Options);

    public async Task<UploadStatus> StartUploadAsync(V1.Digest digest, bool sensitive = false) =>
        await Raw.StartUploadAsync(new StartUploadRequest { Digest = digest, Sensitive = sensitive }, Options);

    public async Task<UploadStatus> QueryUploadAsync(string uploadId) => await Raw.QueryUploadAsync(new QueryUploadRequest { UploadId = uploadId }, Options);

    public async Task<AddReferencesResponse> AddReferencesAsync(AddReferencesRequest request) => await Raw.AddReferencesAsync(request, Options);

    public async Task<RemoveReferencesResponse> RemoveReferencesAsync(RemoveReferencesRequest request) => await Raw.RemoveReferencesAsync(request, Options);

    public async Task<ListReferencesResponse> ListReferencesAsync(ListReferencesRequest request) => await Raw.ListReferencesAsync(request, Options);

    public async Task<ListBlobsResponse> ListBlobsAsync(int pageSize = 0, string pageToken = "") =>
        await Raw.ListBlobsAsync(new ListBlobsRequest { PageSize = pageSize, PageToken = pageToken }, Options);

    public async Task<BatchStatResponse> BatchStatAsync(BatchStatRequest request) => await Raw.BatchStatAsync(request, Options);

    /// <summary>Sends data[from..to) of an upload in chunks, optionally declaring the write offset differently.</summary>
    public async Task<UploadStatus> UploadAsync(string uploadId, byte[] data, long from, long to, int chunk = 256 * 1024, long? claimOffset = null, bool finish = false)
    {
        using var call = Raw.Upload(Options);
        var offset = from;
        var first = true;
        try
        {
            do
            {
                var n = (int)Math.Min(chunk, to - offset);
                await call.RequestStream.WriteAsync(new UploadRequest
                {
                    UploadId = first ? uploadId : "",
                    WriteOffset = first && claimOffset is { } claimed ? claimed : offset,
                    Data = ByteString.CopyFrom(data, (int)offset, n),
                    Finish = finish && offset + n == to,
                });
                offset += n;
                first = false;
            }
            while (offset < to);

            await call.RequestStream.CompleteAsync();
        }
        catch (Exception) when (!call.ResponseAsync.IsCompletedSuccessfully)
        {
            // The server ended the call early (an error status): its status is the answer.
        }

        return await call.ResponseAsync;
    }

    public async Task<byte[]> DownloadAsync(V1.Digest digest, long offset = 0, long limit = 0)
    {
        using var call = Raw.Download(new DownloadRequest { Digest = digest, Offset = offset, Limit = limit }, Options);
        using var output = new MemoryStream();
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            call.ResponseStream.Current.Data.WriteTo(output);
        }

        return output.ToArray();
    }

    /// <summary>Runs OffloadTrace or HydrateTrace over a trace in chunks; returns the output and the summary.</summary>
    public async Task<(byte[] Output, TraceChunk.Types.Summary Summary)> TraceAsync(string method, byte[] trace, TraceChunk.Types.Header header, int chunk = 64 * 1024)
    {
        using var call = method switch
        {
            "OffloadTrace" => Raw.OffloadTrace(Options),
            "HydrateTrace" => Raw.HydrateTrace(Options),
            _ => throw new ArgumentOutOfRangeException(nameof(method), method, "OffloadTrace or HydrateTrace"),
        };
        var send = Task.Run(async () =>
        {
            await call.RequestStream.WriteAsync(new TraceChunk { Header = header });
            for (var offset = 0; offset < trace.Length; offset += chunk)
            {
                await call.RequestStream.WriteAsync(new TraceChunk { Data = ByteString.CopyFrom(trace, offset, Math.Min(chunk, trace.Length - offset)) });
            }

            await call.RequestStream.CompleteAsync();
        });
        using var output = new MemoryStream();
        TraceChunk.Types.Summary? summary = null;
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            var message = call.ResponseStream.Current;
            if (message.KindCase == TraceChunk.KindOneofCase.Data)
            {
                message.Data.WriteTo(output);
            }
            else if (message.KindCase == TraceChunk.KindOneofCase.Summary)
            {
                summary = message.Summary;
            }
        }

        await send;
        return (output.ToArray(), summary ?? throw new InvalidOperationException("no summary"));
    }
}
