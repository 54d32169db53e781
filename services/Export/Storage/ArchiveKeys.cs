namespace Microservices.Export.Storage;

/// <summary>Object keys in the bucket: exports/{owner}/{job id}.tar.gz and imports/{owner}/{archive id}.tar.gz.</summary>
internal static class ArchiveKeys
{
    public const string ExportsPrefix = "exports/";

    public const string ImportsPrefix = "imports/";

    private const string Extension = ".tar.gz";

    public static string Export(string owner, string jobId) => $"{ExportsPrefix}{owner}/{jobId}{Extension}";

    public static string Upload(string owner, string archiveId) => $"{ImportsPrefix}{owner}/{archiveId}{Extension}";

    /// <summary>The job id in an export key, or null for any other key.</summary>
    public static string? JobIdOf(string key)
    {
        if (!key.StartsWith(ExportsPrefix, StringComparison.Ordinal) || !key.EndsWith(Extension, StringComparison.Ordinal))
        {
            return null;
        }

        var name = key[(key.LastIndexOf('/') + 1)..^Extension.Length];
        return name.Length > 0 ? name : null;
    }
}
