using System.Net;
using System.Net.Http.Headers;
using Microservices.Blob.Tests.Support;

namespace Microservices.Blob.Tests.Service;

public sealed class GatewayTests : IAsyncLifetime
{
    private BlobHost _host = null!;
    private readonly HttpClient _http = new();

    public async Task InitializeAsync() => _host = await BlobHost.StartAsync();

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _host.DisposeAsync();
    }

    private string Url(string hash) => $"http://127.0.0.1:{_host.GatewayPort}/blobs/sha256/{hash}";

    [Fact]
    public async Task Serves_bytes_with_type_etag_immutable_caching_and_ranges()
    {
        var png = TestData.Png(30, 30, seed: 8);
        await new BlobClient(_host.Channel, "alice").PutAsync(png);
        var hash = TestData.Sha256Hex(png);

        using var response = await _http.GetAsync(Url(hash));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version11, response.Version); // the host's endpoint default is h2c; the gateway says HTTP/1.1
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal($"\"sha256:{hash}\"", response.Headers.ETag?.Tag);
        Assert.Contains("immutable", response.Headers.CacheControl?.ToString());
        Assert.Equal(png, await response.Content.ReadAsByteArrayAsync());

        using var ranged = new HttpRequestMessage(HttpMethod.Get, Url(hash));
        ranged.Headers.Range = new RangeHeaderValue(10, 19);
        using var partial = await _http.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(png.AsSpan(10, 10).ToArray(), await partial.Content.ReadAsByteArrayAsync());
        Assert.Equal($"bytes 10-19/{png.Length}", partial.Content.Headers.ContentRange?.ToString());

        using var conditional = new HttpRequestMessage(HttpMethod.Get, Url(hash));
        conditional.Headers.IfNoneMatch.Add(new EntityTagHeaderValue($"\"sha256:{hash}\""));
        Assert.Equal(HttpStatusCode.NotModified, (await _http.SendAsync(conditional)).StatusCode);
    }

    [Fact]
    public async Task Missing_blob_is_a_placeholder_image_with_a_header()
    {
        using var response = await _http.GetAsync(Url(new string('a', 64)));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("image/svg+xml", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.Contains("X-Blob-Missing"));
        Assert.Contains("<svg", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Sensitive_blobs_need_their_owner()
    {
        var data = TestData.Png(4, 4, seed: 9);
        await new BlobClient(_host.Channel, "alice").PutAsync(data, sensitive: true);
        var hash = TestData.Sha256Hex(data);
        using var anonymous = await _http.GetAsync(Url(hash));
        Assert.Equal(HttpStatusCode.NotFound, anonymous.StatusCode);

        using var owned = new HttpRequestMessage(HttpMethod.Get, Url(hash) + $"?size={data.Length}");
        owned.Headers.Add("X-Owner-Id", "alice");
        using var response = await _http.SendAsync(owned);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(data, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Bad_hash_is_400()
    {
        using var response = await _http.GetAsync(Url("..%2F..%2Fetc%2Fpasswd"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
