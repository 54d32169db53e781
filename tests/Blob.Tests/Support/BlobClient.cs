using Google.Protobuf;
using Microservices.Blob.Digests;
using Microservices.Blob.V1;
using Microservices.Grpc.Client;

namespace Microservices.Blob.Tests.Support;

/// <summary>Typed calls of microservices.blob.v1.BlobService over our gRPC client, for the tests.</summary>
internal sealed class BlobClient(GrpcChannel channel, string owner)
{
    private static readonly Google.Protobuf.Reflection.ServiceDescriptor Service = BlobReflection.Descriptor.Services[0];

    public static Method<TRequest, TResponse> M<TRequest, TResponse>(string name)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> => Method<TRequest, TResponse>.Of(Service, name);

    public CallOptions Options => BlobHost.As(owner);

    public static V1.Digest D(byte[] data) => new() { Hash = BlobDigest.Of(data).Hash, SizeBytes = data.Length };

    public Task<FindMissingResponse> FindMissingAsync(params byte[][] blobs)
    {
        var request = new FindMissingRequest();
        request.Digests.Add(blobs.Select(D));
        return channel.UnaryAsync(M<FindMissingRequest, FindMissingResponse>("FindMissing"), request, Options);
    }

    public Task<BatchUploadResponse> BatchUploadAsync(BatchUploadRequest request) =>
        channel.UnaryAsync(M<BatchUploadRequest, BatchUploadResponse>("BatchUpload"), request, Options);

    public async Task PutAsync(byte[] data, bool sensitive = false)
    {
        var request = new BatchUploadRequest();
        request.Items.Add(new BatchUploadRequest.Types.Item { Digest = D(data), Data = ByteString.CopyFrom(data), Sensitive = sensitive });
        var response = await BatchUploadAsync(request);
        Assert.Equal(0, response.Results[0].Status.Code);
    }

    public Task<BatchReadResponse> BatchReadAsync(params V1.Digest[] digests)
    {
        var request = new BatchReadRequest();
        request.Digests.Add(digests);
        return channel.UnaryAsync(M<BatchReadRequest, BatchReadResponse>("BatchRead"), request, Options);
    }

    public Task<BlobInfo> StatAsync(V1.Digest digest) =>
        channel.UnaryAsync(M<StatRequest, BlobInfo>("Stat"), new StatRequest { Digest = digest }, Options);

    public Task<UploadStatus> StartUploadAsync(V1.Digest digest, bool sensitive = false) =>
        channel.UnaryAsync(M<StartUploadRequest, UploadStatus>("StartUpload"), new StartUploadRequest { Digest = digest, Sensitive = sensitive }, Options);

    public Task<UploadStatus> QueryUploadAsync(string uploadId) =>
        channel.UnaryAsync(M<QueryUploadRequest, UploadStatus>("QueryUpload"), new QueryUploadRequest { UploadId = uploadId }, Options);

    /// <summary>Sends data[from..to) of an upload in chunks, optionally declaring the write offset differently.</summary>
    public async Task<UploadStatus> UploadAsync(string uploadId, byte[] data, long from, long to, int chunk = 256 * 1024, long? claimOffset = null, bool finish = false)
    {
        using var call = channel.ClientStreamingCall(M<UploadRequest, UploadStatus>("Upload"), Options);
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
        using var call = channel.ServerStreamingCall(M<DownloadRequest, DownloadResponse>("Download"), new DownloadRequest { Digest = digest, Offset = offset, Limit = limit }, Options);
        using var output = new MemoryStream();
        while (await call.ResponseStream.MoveNext())
        {
            call.ResponseStream.Current.Data.WriteTo(output);
        }

        return output.ToArray();
    }

    /// <summary>Runs OffloadTrace or HydrateTrace over a trace in chunks; returns the output and the summary.</summary>
    public async Task<(byte[] Output, TraceChunk.Types.Summary Summary)> TraceAsync(string method, byte[] trace, TraceChunk.Types.Header header, int chunk = 64 * 1024)
    {
        using var call = channel.DuplexStreamingCall(M<TraceChunk, TraceChunk>(method), Options);
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
        while (await call.ResponseStream.MoveNext())
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
