using System.Diagnostics.Metrics;
using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Microservices.Blob.Tests.Support;
using Microservices.Blob.V1;
using Microservices.Clients;
using Microservices.TestSupport;

namespace Microservices.Blob.Tests.Service;

/// <summary>
/// What grpc-dotnet answers to input no well-behaved client sends, on the real blob host; after
/// each, the same host still serves a well-behaved client.
/// </summary>
public sealed class TransportBadInputTests : IAsyncLifetime
{
    private const string Service = "/microservices.blob.v1.BlobService";
    private BlobHost _host = null!;
    private HttpClient _raw = null!;

    private BlobClient Alice => new(_host.Channel, "alice");

    public async Task InitializeAsync()
    {
        _host = await BlobHost.StartAsync();
        _raw = RawGrpc.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _raw.Dispose();
        await _host.DisposeAsync();
    }

    /// <summary>Sent as alice: the blob service's caller is the bearer token's subject.</summary>
    private Task<RawGrpc.RawResponse> PostAsync(string path, byte[] body, string contentType = "application/grpc") =>
        RawGrpc.SendAsync(_raw, RawGrpc.Request($"http://127.0.0.1:{_host.Port}", path, body, contentType, ("authorization", "Bearer " + TestTokens.For("alice"))));

    private async Task StillServesAsync(int seed)
    {
        var data = TestData.Random(1000, seed);
        await Alice.PutAsync(data);
        Assert.Equal(data, await Alice.DownloadAsync(BlobClient.D(data)));
    }

    [Fact]
    public async Task A_message_over_the_receive_limit_is_resource_exhausted()
    {
        // BlobHost raises Grpc:MaxReceiveMessageSize to 4 MiB + 64 KiB: a message above the 4 MiB
        // default but below that reaches the handler (which refuses the batch by its own rule).
        var within = new BatchUploadRequest { Items = { new BatchUploadRequest.Types.Item { Digest = BlobClient.D([1]), Data = ByteString.CopyFrom(new byte[(4 * 1024 * 1024) + 1024]) } } };
        var refused = await Assert.ThrowsAsync<RpcException>(() => Alice.BatchUploadAsync(within));
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Contains("3145728", refused.Status.Detail);

        var over = new BatchUploadRequest { Items = { new BatchUploadRequest.Types.Item { Digest = BlobClient.D([1]), Data = ByteString.CopyFrom(new byte[5 * 1024 * 1024]) } } };
        var error = await Assert.ThrowsAsync<RpcException>(() => Alice.BatchUploadAsync(over));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("maximum", error.Status.Detail);

        // The frame header alone is enough: a declared 100 MiB is refused without reading it.
        var declared = await PostAsync($"{Service}/Stat", RawGrpc.Frame([0x0a, 0x00], declaredLength: 100 * 1024 * 1024));
        Assert.Equal((int)StatusCode.ResourceExhausted, declared.GrpcStatus);
        await StillServesAsync(1);
    }

    [Fact]
    public async Task Garbage_protobuf_is_a_status_not_a_crash()
    {
        // Field 1 (digest) as a length-delimited value claiming 127 bytes of 3: not a StatRequest.
        // grpc-dotnet parses before any handler or interceptor runs and answers UNKNOWN with its
        // generic text (detailed errors are off), never the parser's exception.
        var response = await PostAsync($"{Service}/Stat", RawGrpc.Frame([0x0a, 0x7f, 0x01, 0x02, 0x03]));
        Assert.Equal(HttpStatusCode.OK, response.HttpStatus);
        Assert.Equal((int)StatusCode.Unknown, response.GrpcStatus);
        Assert.Equal("Exception was thrown by handler.", response.GrpcMessage);

        // A frame cut short of its declared length.
        var truncated = await PostAsync($"{Service}/Stat", RawGrpc.Frame([0x0a, 0x00], declaredLength: 50));
        Assert.Equal((int)StatusCode.Internal, truncated.GrpcStatus);
        Assert.Contains("Incomplete message", truncated.GrpcMessage);
        await StillServesAsync(2);
    }

    [Theory]
    [InlineData(Service + "/NoSuchMethod", "Method is unimplemented.")]
    [InlineData("/microservices.blob.v1.NoSuchService/Stat", "Service is unimplemented.")]
    public async Task Unknown_method_or_service_is_unimplemented(string path, string message)
    {
        var response = await PostAsync(path, RawGrpc.Frame([]));
        Assert.Equal(HttpStatusCode.OK, response.HttpStatus);
        Assert.Equal((int)StatusCode.Unimplemented, response.GrpcStatus);
        Assert.Equal(message, response.GrpcMessage);
        await StillServesAsync(3);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("text/plain")]
    public async Task A_non_grpc_content_type_is_415_with_a_status(string contentType)
    {
        var response = await PostAsync($"{Service}/Stat", "{}"u8.ToArray(), contentType);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.HttpStatus);
        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
        Assert.Contains(contentType, response.GrpcMessage);
        await StillServesAsync(4);
    }

    [Fact]
    public async Task A_client_that_never_reads_its_downloads_does_not_stop_the_others()
    {
        using var requests = new ActiveRequests(_host);
        var big = TestData.Random(8 * 1024 * 1024, seed: 5);
        var start = await Alice.StartUploadAsync(BlobClient.D(big));
        Assert.True((await Alice.UploadAsync(start.UploadId, big, 0, big.Length, chunk: 1024 * 1024, finish: true)).Complete);

        // Its own connection(s): 16 downloads whose first message arrived and nothing is read after.
        using var stalledChannel = GrpcChannels.Create($"http://127.0.0.1:{_host.Port}");
        var stalledClient = new BlobService.BlobServiceClient(stalledChannel);
        using var stop = new CancellationTokenSource();
        var stalled = new List<AsyncServerStreamingCall<DownloadResponse>>();
        for (var i = 0; i < 16; i++)
        {
            var call = stalledClient.Download(new DownloadRequest { Digest = BlobClient.D(big) }, BlobHost.As("alice").WithCancellationToken(stop.Token));
            stalled.Add(call);
            await call.ResponseHeadersAsync;
        }

        Assert.True(requests.Count >= 16, $"{requests.Count} requests in flight");

        // Another client is served in full meanwhile.
        Assert.Equal(big, await Alice.DownloadAsync(BlobClient.D(big)));
        await StillServesAsync(6);

        // Cancelled, every stalled call ends CANCELLED and the server lets go of all of them.
        await stop.CancelAsync();
        foreach (var call in stalled)
        {
            var error = await Assert.ThrowsAsync<RpcException>(async () =>
            {
                while (await call.ResponseStream.MoveNext(CancellationToken.None))
                {
                }
            });
            Assert.Equal(StatusCode.Cancelled, error.StatusCode);
            call.Dispose();
        }

        await requests.WaitForIdleAsync(TimeSpan.FromSeconds(60));
        await StillServesAsync(7);
    }

    /// <summary>The host's own http.server.active_requests (ASP.NET Core's metric, this host's meter factory only).</summary>
    private sealed class ActiveRequests : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _count;

        public ActiveRequests(BlobHost host)
        {
            var factory = host.Service<IMeterFactory>();
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "http.server.active_requests" && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _count, value));
            _listener.Start();
        }

        public long Count => Interlocked.Read(ref _count);

        public async Task WaitForIdleAsync(TimeSpan timeout)
        {
            using var limit = new CancellationTokenSource(timeout);
            while (Count > 0)
            {
                await Task.Delay(50, limit.Token);
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
