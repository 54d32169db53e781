using System.Globalization;
using System.Text;
using Microservices.Blob.Digests;
using Microservices.Blob.Domain;
using Microservices.Blob.Extensions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;

namespace Microservices.Blob.Gateway;

/// <summary>
/// GET /blobs/sha256/&lt;hex&gt; on the gateway port: what a rendered trace's image URLs point at.
/// Bytes with their sniffed Content-Type, ETag = the digest, immutable caching, single Range
/// requests. A blob that is not there answers 404 with a small placeholder image and
/// X-Blob-Missing, so a rendered trace degrades to a visible "unavailable" instead of a broken image.
/// Who may read: no request header names an owner (anyone can send one); only with
/// Blob:Gateway:AllowDigestOnly are non-sensitive blobs served by digest alone, else 403.
/// What may render inline and under which Content-Security-Policy is <see cref="ContentPolicy"/>.
/// </summary>
internal static class BlobGateway
{
    public const string MissingHeader = "X-Blob-Missing";
    private static readonly TimeSpan OneYear = TimeSpan.FromDays(365);
    private const string Refused = "reading blobs by digest alone is off (Blob:Gateway:AllowDigestOnly)";

    private static readonly byte[] Placeholder = Encoding.UTF8.GetBytes(
        """<svg xmlns="http://www.w3.org/2000/svg" width="240" height="60" viewBox="0 0 240 60"><rect width="240" height="60" fill="#eee" stroke="#bbb"/><text x="120" y="35" font-family="sans-serif" font-size="14" text-anchor="middle" fill="#666">image unavailable</text></svg>""");

    public static IEndpointConventionBuilder MapBlobGateway(this IEndpointRouteBuilder endpoints, int port) =>
        // Browsers carry no bearer token; the gateway checks access itself.
        endpoints.MapGet("/blobs/sha256/{hash}", ServeAsync).RequireHost($"*:{port}").AllowAnonymous();

    private static async Task ServeAsync(HttpContext http, string hash)
    {
        var store = http.RequestServices.GetRequiredService<BlobStore>();
        var options = http.RequestServices.GetRequiredService<BlobOptions>();
        var token = http.RequestAborted;
        if (!BlobDigest.IsValidHash(hash))
        {
            http.Response.StatusCode = StatusCodes.Status400BadRequest;
            await http.Response.WriteAsync("the path must be /blobs/sha256/<64 lowercase hex characters>", token).ConfigureAwait(false);
            return;
        }

        Stream content;
        BlobDigest digest;
        string mediaType;
        bool sensitive;
        var privateFor = TimeSpan.Zero;
        try
        {
            var query = http.Request.Query;
            if (query.ContainsKey("c"))
            {
                var capability = http.RequestServices.GetService<BlobCapability>();
                var owner = query["o"].ToString();
                var remaining = capability?.Verify(owner, hash, query["e"].ToString(), query["c"].ToString());
                if (remaining is null)
                {
                    // Before any lookup, whatever the blob: a bad capability learns nothing.
                    http.Response.StatusCode = StatusCodes.Status403Forbidden;
                    http.Response.Headers.CacheControl = "no-store";
                    await http.Response.WriteAsync("the capability is not valid or has expired", token).ConfigureAwait(false);
                    return;
                }

                // A blob the owner does not hold is exactly a missing one (NotFound either way).
                var size = long.TryParse(query["size"], NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : -1;
                var record = size >= 0
                    ? await store.StatAsync(owner, new BlobDigest(hash, size), token).ConfigureAwait(false)
                    : throw BlobException.NotFound("missing");
                (_, content) = await store.OpenReadAsync(owner, record.Digest, token).ConfigureAwait(false);
                (digest, mediaType, sensitive) = (record.Digest, record.Object.MediaType, true);
                privateFor = remaining.Value < OneYear ? remaining.Value : OneYear;
            }
            else if (!options.Gateway.AllowDigestOnly)
            {
                // Before any lookup: the answer says nothing about whether the blob exists.
                http.Response.StatusCode = StatusCodes.Status403Forbidden;
                http.Response.Headers.CacheControl = "no-store";
                await http.Response.WriteAsync(Refused, token).ConfigureAwait(false);
                return;
            }

            else
            {
                // Only non-sensitive objects live under the shared key: a sensitive blob is as missing as an absent one.
                var (stored, opened) = await store.OpenSharedAsync(hash, token).ConfigureAwait(false);
                (content, digest, mediaType, sensitive) = (opened, stored.Digest, stored.MediaType, false);
            }
        }
        catch (BlobException error)
        {
            await ServePlaceholderAsync(http, hash, error.Kind == BlobErrorKind.NotFound ? "missing" : error.Kind.ToString(), token).ConfigureAwait(false);
            return;
        }

        await using (content)
        {
            var etag = $"\"sha256:{digest.Hash}\"";
            var headers = http.Response.Headers;
            headers.ETag = etag;
            // Access checked: private, and no longer than the capability lives.
            headers.CacheControl = sensitive
                ? string.Create(CultureInfo.InvariantCulture, $"private, max-age={(long)privateFor.TotalSeconds}")
                : "public, max-age=31536000, immutable";
            headers.AcceptRanges = "bytes";
            headers.ContentType = mediaType;
            ContentPolicy.Apply(headers, mediaType, digest.Hash);
            if (http.Request.Headers.IfNoneMatch.ToString() == etag)
            {
                http.Response.StatusCode = StatusCodes.Status304NotModified;
                return;
            }

            long start = 0, length = digest.Size;
            if (RangeHeaderValue.TryParse(http.Request.Headers.Range.ToString(), out var range) && range.Unit == "bytes" && range.Ranges.Count == 1)
            {
                var item = range.Ranges.First();
                (start, var end) = item.From is { } from ? (from, Math.Min(item.To ?? digest.Size - 1, digest.Size - 1)) : (Math.Max(0, digest.Size - (item.To ?? 0)), digest.Size - 1);
                if (start >= digest.Size || end < start)
                {
                    http.Response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                    headers.ContentRange = $"bytes */{digest.Size}";
                    return;
                }

                length = end - start + 1;
                http.Response.StatusCode = StatusCodes.Status206PartialContent;
                headers.ContentRange = $"bytes {start}-{end}/{digest.Size}";
            }

            http.Response.ContentLength = length;
            if (HttpMethods.IsHead(http.Request.Method))
            {
                return;
            }

            await BlobStreaming.SkipAsync(content, start, token).ConfigureAwait(false);
            var buffer = new byte[81920];
            while (length > 0)
            {
                var read = await content.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, length)), token).ConfigureAwait(false);
                if (read == 0)
                {
                    http.Abort();
                    return;
                }

                await http.Response.Body.WriteAsync(buffer.AsMemory(0, read), token).ConfigureAwait(false);
                length -= read;
            }
        }
    }

    private static async Task ServePlaceholderAsync(HttpContext http, string hash, string reason, CancellationToken token)
    {
        http.Response.StatusCode = StatusCodes.Status404NotFound;
        http.Response.Headers[MissingHeader] = $"sha256:{hash}; reason={reason}";
        http.Response.Headers.CacheControl = "no-store";
        http.Response.ContentType = "image/svg+xml";
        http.Response.Headers["X-Content-Type-Options"] = "nosniff";
        http.Response.Headers.ContentSecurityPolicy = ContentPolicy.ActiveCsp;
        http.Response.ContentLength = Placeholder.Length;
        await http.Response.Body.WriteAsync(Placeholder, token).ConfigureAwait(false);
    }
}
