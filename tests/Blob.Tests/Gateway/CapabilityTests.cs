using System.Net;
using Microservices.Blob.Gateway;
using Microservices.Blob.Tests.Support;

namespace Microservices.Blob.Tests.Gateway;

/// <summary>Gateway reads by signed, expiring capability URLs (o, e, c): what is served, cached, and refused.</summary>
public sealed class CapabilityTests : IAsyncLifetime
{
    private readonly HttpClient _http = new();
    private BlobHost _host = null!;
    private byte[] _data = null!;

    private BlobCapability Signer => new(Convert.FromBase64String(BlobHost.CapabilityKey), TimeProvider.System);

    public async Task InitializeAsync()
    {
        _host = await BlobHost.StartAsync();
        _data = TestData.Png(6, 6, seed: 95);
        await new BlobClient(_host.Channel, "alice").PutAsync(_data, sensitive: true);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _host.DisposeAsync();
    }

    private string Url(string hash, string query) => $"http://127.0.0.1:{_host.GatewayPort}/blobs/sha256/{hash}?type=image%2Fpng&size={_data.Length}&{query}";

    [Fact]
    public async Task A_valid_capability_serves_the_owners_blob_privately_for_at_most_its_remaining_life()
    {
        var hash = TestData.Sha256Hex(_data);
        using var response = await _http.GetAsync(Url(hash, Signer.Query("alice", hash, DateTimeOffset.UtcNow.AddHours(1))));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(_data, await response.Content.ReadAsByteArrayAsync());
        var cache = response.Headers.CacheControl!;
        Assert.True(cache.Private);
        Assert.False(cache.Public);
        Assert.DoesNotContain("immutable", cache.ToString(), StringComparison.Ordinal);
        Assert.InRange(cache.MaxAge!.Value, TimeSpan.FromMinutes(1), TimeSpan.FromHours(1));
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Fact]
    public async Task A_blob_the_owner_does_not_hold_answers_byte_for_byte_as_a_missing_one()
    {
        var hash = TestData.Sha256Hex(_data);
        var absent = new string('d', 64);
        var expires = DateTimeOffset.UtcNow.AddHours(1);
        using var notHeld = await _http.GetAsync(Url(hash, Signer.Query("mallory", hash, expires)));
        using var missing = await _http.GetAsync(Url(absent, Signer.Query("mallory", absent, expires)));
        await GatewayAssert.AnswersAsMissingAsync(notHeld, hash, missing, absent);
    }

    [Fact]
    public async Task A_bad_or_expired_capability_is_403_whatever_the_blob()
    {
        var hash = TestData.Sha256Hex(_data);
        var absent = new string('e', 64);
        var valid = Signer.Query("alice", hash, DateTimeOffset.UtcNow.AddHours(1));
        var refused = new[]
        {
            Signer.Query("alice", hash, DateTimeOffset.UtcNow.AddMinutes(-1)),                      // expired
            valid.Replace("o=alice", "o=bob", StringComparison.Ordinal),                           // another owner
            Signer.Query("alice", new string('f', 64), DateTimeOffset.UtcNow.AddHours(1)),       // another blob
            new BlobCapability(new byte[32], TimeProvider.System).Query("alice", hash, DateTimeOffset.UtcNow.AddHours(1)), // another key
            "o=alice&e=notanumber&c=x",
        };
        foreach (var query in refused)
        {
            using var existing = await _http.GetAsync(Url(hash, query));
            using var missing = await _http.GetAsync(Url(absent, query));
            Assert.Equal(HttpStatusCode.Forbidden, existing.StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, missing.StatusCode);
            Assert.Equal(await missing.Content.ReadAsByteArrayAsync(), await existing.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task An_offloaded_trace_carries_capabilities_its_images_load_by_and_hydrates_to_the_original()
    {
        var alice = new BlobClient(_host.Channel, "alice");
        var image = TestData.Png(5, 5, seed: 96);
        var trace = System.Text.Encoding.ASCII.GetBytes($"look: ![x](data:image/png;base64,{Convert.ToBase64String(image)}) done\n");
        var gateway = $"http://127.0.0.1:{_host.GatewayPort}";
        var (slim, _) = await alice.TraceAsync("OffloadTrace", trace, new Microservices.Blob.V1.TraceChunk.Types.Header { TraceId = "t", GatewayUrl = gateway });
        var text = System.Text.Encoding.ASCII.GetString(slim);
        var match = System.Text.RegularExpressions.Regex.Match(text, @"http://[^)]+");
        Assert.True(match.Success, text);
        var url = match.Value;
        Assert.Matches(@"/blobs/sha256/[0-9a-f]{64}\?o=alice&e=\d+&c=[A-Za-z0-9_-]{43}&type=image%2Fpng&size=\d+$", url);

        // A browser needs nothing but the URL; the same URL with another owner, or forged, is refused.
        using var response = await _http.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(image, await response.Content.ReadAsByteArrayAsync());
        Assert.True(response.Headers.CacheControl!.Private);
        using var otherOwner = await _http.GetAsync(url.Replace("o=alice", "o=mallory", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.Forbidden, otherOwner.StatusCode);
        using var stripped = await _http.GetAsync(System.Text.RegularExpressions.Regex.Replace(url, @"o=.*&c=[^&]+&", ""));
        Assert.Equal(HttpStatusCode.Forbidden, stripped.StatusCode); // digest alone is off by default

        var (hydrated, _) = await alice.TraceAsync("HydrateTrace", slim, new Microservices.Blob.V1.TraceChunk.Types.Header());
        Assert.Equal(trace, hydrated);
    }
}
