using System.Text;
using System.Net;
using System.Net.Http.Headers;
using Microservices.Blob.Tests.Support;

namespace Microservices.Blob.Tests.Service;

public sealed class GatewayTests : IAsyncLifetime
{
    private BlobHost _host = null!;
    private readonly HttpClient _http = new();

    public async Task InitializeAsync() => _host = await BlobHost.StartAsync(new() { ["Blob:Gateway:AllowDigestOnly"] = "true" });

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
    public async Task A_sensitive_blob_is_answered_exactly_as_a_missing_one_whatever_headers_claim()
    {
        var data = TestData.Png(4, 4, seed: 9);
        await new BlobClient(_host.Channel, "alice").PutAsync(data, sensitive: true);
        var hash = TestData.Sha256Hex(data);
        var absent = new string('b', 64);

        // The old gateway trusted X-Owner-Id; anyone can send it, so it means nothing now.
        using var claimed = new HttpRequestMessage(HttpMethod.Get, Url(hash) + $"?size={data.Length}");
        claimed.Headers.Add("X-Owner-Id", "alice");
        using var sensitive = await _http.SendAsync(claimed);
        using var missing = await _http.GetAsync(Url(absent) + $"?size={data.Length}");
        await GatewayAssert.AnswersAsMissingAsync(sensitive, hash, missing, absent);
    }

    [Fact]
    public async Task Without_allow_digest_only_every_read_is_403_before_any_lookup()
    {
        await using var strict = await BlobHost.StartAsync();
        var data = TestData.Png(5, 5, seed: 10);
        await new BlobClient(strict.Channel, "alice").PutAsync(data);
        var url = $"http://127.0.0.1:{strict.GatewayPort}/blobs/sha256/";
        using var present = await _http.GetAsync(url + TestData.Sha256Hex(data));
        using var absent = await _http.GetAsync(url + new string('c', 64));
        Assert.Equal(HttpStatusCode.Forbidden, present.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, absent.StatusCode);
        Assert.Equal(await absent.Content.ReadAsByteArrayAsync(), await present.Content.ReadAsByteArrayAsync());
        Assert.Contains("AllowDigestOnly", await present.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Active_content_is_a_sandboxed_attachment_with_nosniff()
    {
        var svg = Encoding.UTF8.GetBytes("""<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>""");
        await new BlobClient(_host.Channel, "alice").PutAsync(svg);
        var hash = TestData.Sha256Hex(svg);

        using var response = await _http.GetAsync(Url(hash));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/svg+xml", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal($"attachment; filename=\"{hash}.svg\"", string.Join(",", response.Content.Headers.GetValues("Content-Disposition")));
        Assert.Equal("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:", string.Join(",", response.Headers.GetValues("Content-Security-Policy")));
        Assert.Equal("nosniff", string.Join(",", response.Headers.GetValues("X-Content-Type-Options")));
    }

    [Fact]
    public async Task Passive_images_stay_inline_with_nosniff_and_a_csp()
    {
        var png = TestData.Png(6, 6, seed: 12);
        await new BlobClient(_host.Channel, "alice").PutAsync(png);

        using var response = await _http.GetAsync(Url(TestData.Sha256Hex(png)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Content.Headers.ContentDisposition);
        Assert.Equal("default-src 'none'; sandbox", string.Join(",", response.Headers.GetValues("Content-Security-Policy")));
        Assert.Equal("nosniff", string.Join(",", response.Headers.GetValues("X-Content-Type-Options")));
    }

    [Fact]
    public async Task The_placeholder_svg_is_sandboxed_too()
    {
        using var response = await _http.GetAsync(Url(new string('c', 64)));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:", string.Join(",", response.Headers.GetValues("Content-Security-Policy")));
        Assert.Equal("nosniff", string.Join(",", response.Headers.GetValues("X-Content-Type-Options")));
    }

    [Fact]
    public async Task Bad_hash_is_400()
    {
        using var response = await _http.GetAsync(Url("..%2F..%2Fetc%2Fpasswd"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
