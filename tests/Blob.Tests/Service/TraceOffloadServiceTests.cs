using System.Text;
using Microservices.Blob.Tests.Support;
using Microservices.Blob.V1;
using Grpc.Core;

namespace Microservices.Blob.Tests.Service;

public sealed class TraceOffloadServiceTests : IAsyncLifetime
{
    private BlobHost _host = null!;

    private BlobClient Alice => new(_host.Channel, "alice");

    public async Task InitializeAsync() => _host = await BlobHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static byte[] Trace(params byte[][] images)
    {
        var text = new StringBuilder("# trace\n\n");
        for (var i = 0; i < images.Length; i++)
        {
            var media = images[i][0] == 0x89 ? "image/png" : "image/jpeg";
            text.Append($"step {i}\n\n![image {i}](data:{media};base64,{Convert.ToBase64String(images[i])})\n\n");
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    [Fact]
    public async Task Offload_then_hydrate_is_byte_for_byte_and_a_second_offload_stores_nothing()
    {
        var png = TestData.Png(200, 100, seed: 1);
        var jpeg = TestData.Jpeg(800, 600, 40_000, seed: 2);
        var trace = Trace(png, jpeg, png, png, jpeg);
        var header = new TraceChunk.Types.Header { TraceId = "run-42" };
        var (slim, summary) = await Alice.TraceAsync("OffloadTrace", trace, header, chunk: 1000);
        Assert.Equal(5, summary.Offloaded);
        Assert.Equal(2, summary.Stored);
        Assert.Equal(png.Length + jpeg.Length, summary.StoredBytes);
        Assert.True(slim.Length < trace.Length / 20, $"{slim.Length} of {trace.Length}");
        Assert.Contains($"http://127.0.0.1:{_host.GatewayPort}/blobs/sha256/", Encoding.UTF8.GetString(slim));

        var (again, second) = await Alice.TraceAsync("OffloadTrace", trace, header);
        Assert.Equal(0, second.Stored);
        Assert.Equal(0, second.StoredBytes);
        Assert.Equal(slim, again);

        var (hydrated, _) = await Alice.TraceAsync("HydrateTrace", slim, new TraceChunk.Types.Header(), chunk: 777);
        Assert.Equal(trace, hydrated);

        var refs = await Alice.ListReferencesAsync(new ListReferencesRequest { TraceId = "run-42" });
        Assert.Equal(5, refs.References.Count);

        // Another owner cannot hydrate Alice's references: NOT_FOUND naming the blob.
        var error = await Assert.ThrowsAsync<RpcException>(() => new BlobClient(_host.Channel, "mallory").TraceAsync("HydrateTrace", slim, new TraceChunk.Types.Header()));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Contains("sha256:", error.Status.Detail);
    }

    [Fact]
    public async Task Invalid_base64_stays_inline_or_fails_strictly_with_its_offset()
    {
        var trace = Encoding.ASCII.GetBytes("ok data:image/png;base64,iVBORw0KGgo= broken data:image/png;base64,AAB= end");
        var (slim, summary) = await Alice.TraceAsync("OffloadTrace", trace, new TraceChunk.Types.Header { TraceId = "t" });
        Assert.Equal(1, summary.LeftInline);
        Assert.Equal(1, summary.Offloaded);
        var (hydrated, _) = await Alice.TraceAsync("HydrateTrace", slim, new TraceChunk.Types.Header());
        Assert.Equal(trace, hydrated);

        var error = await Assert.ThrowsAsync<RpcException>(() => Alice.TraceAsync("OffloadTrace", trace, new TraceChunk.Types.Header { TraceId = "t2", Strict = true }));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("offset 45", error.Status.Detail);
        var refs = await Alice.ListReferencesAsync(new ListReferencesRequest { TraceId = "t2" });
        Assert.Single(refs.References); // the valid image before the bad one is stored and referenced, nothing half-done
    }

    [Fact]
    public async Task A_data_uri_of_millions_of_characters_on_one_line()
    {
        var big = TestData.Random(6_000_000, seed: 5); // 8 MB of base64 on one line, above any message size
        var trace = Encoding.ASCII.GetBytes($"{{\"messages\":[{{\"image\":\"data:image/png;base64,{Convert.ToBase64String(big)}\"}}]}}");
        var (slim, summary) = await Alice.TraceAsync("OffloadTrace", trace, new TraceChunk.Types.Header { TraceId = "big" });
        Assert.Equal(1, summary.Offloaded);
        Assert.True(slim.Length < 400);
        var (hydrated, _) = await Alice.TraceAsync("HydrateTrace", slim, new TraceChunk.Types.Header());
        Assert.Equal(trace, hydrated);
    }

    [Fact]
    public async Task Missing_header_or_trace_id_is_invalid_argument()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => Alice.TraceAsync("OffloadTrace", [1, 2], new TraceChunk.Types.Header()));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("trace_id", error.Status.Detail);
    }
}
