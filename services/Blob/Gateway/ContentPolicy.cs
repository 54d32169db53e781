using Microsoft.AspNetCore.Http;

namespace Microservices.Blob.Gateway;

/// <summary>
/// Which blobs a browser may render in the gateway's origin. Only types that cannot run script
/// (raster images, JSON, plain text, opaque bytes) are served inline; everything else (SVG, HTML,
/// XML, JavaScript, PDF, archives, any type not listed) is an attachment under a sandboxing CSP,
/// so an uploaded document can never act as the gateway's origin. nosniff keeps the browser
/// from guessing a more active type than the one sent.
/// </summary>
internal static class ContentPolicy
{
    /// <summary>For inline passive content: nothing may load, and a sandbox in case it is opened as a document.</summary>
    public const string PassiveCsp = "default-src 'none'; sandbox";

    /// <summary>For active content and the placeholder SVG: a sandbox (no script, unique origin) and no loads beyond inline style and data: images.</summary>
    public const string ActiveCsp = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:";

    private static readonly Dictionary<string, string> Passive = new(StringComparer.Ordinal)
    {
        ["image/png"] = "png",
        ["image/jpeg"] = "jpg",
        ["image/gif"] = "gif",
        ["image/webp"] = "webp",
        ["image/bmp"] = "bmp",
        ["image/tiff"] = "tiff",
        ["application/json"] = "json",
        ["text/plain"] = "txt",
        ["application/octet-stream"] = "bin",
    };

    private static readonly Dictionary<string, string> ActiveExtensions = new(StringComparer.Ordinal)
    {
        ["image/svg+xml"] = "svg",
        ["text/html"] = "html",
        ["application/xhtml+xml"] = "xhtml",
        ["text/xml"] = "xml",
        ["application/xml"] = "xml",
        ["application/javascript"] = "js",
        ["text/javascript"] = "js",
        ["application/pdf"] = "pdf",
        ["application/gzip"] = "gz",
        ["application/zip"] = "zip",
    };

    /// <summary>Sets nosniff, the CSP and, for active content, Content-Disposition: attachment.</summary>
    public static void Apply(IHeaderDictionary headers, string mediaType, string hash)
    {
        var essence = Essence(mediaType);
        headers["X-Content-Type-Options"] = "nosniff";
        if (Passive.ContainsKey(essence))
        {
            headers.ContentSecurityPolicy = PassiveCsp;
            return;
        }

        headers.ContentSecurityPolicy = ActiveCsp;
        headers.ContentDisposition = $"attachment; filename=\"{hash}.{ActiveExtensions.GetValueOrDefault(essence, "bin")}\"";
    }

    /// <summary>"Type/Subtype; charset=x" → "type/subtype".</summary>
    private static string Essence(string mediaType)
    {
        var semicolon = mediaType.IndexOf(';', StringComparison.Ordinal);
        return (semicolon < 0 ? mediaType : mediaType[..semicolon]).Trim().ToLowerInvariant();
    }
}
