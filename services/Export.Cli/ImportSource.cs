using Microservices.Export.V1;

namespace Microservices.Export.Cli;

internal enum ImportSourceKind
{
    File,
    ExportId,
    Url,
}

/// <summary>Exactly one of: a local archive, an export id, a URL.</summary>
internal sealed record ImportSource(ImportSourceKind Kind, string Value)
{
    /// <returns>The source, or null with <paramref name="problem"/> saying what to give instead.</returns>
    public static ImportSource? From(string? file, string? exportId, string? url, out string? problem)
    {
        var given = new List<ImportSource>();
        if (file is not null)
        {
            given.Add(new(ImportSourceKind.File, file));
        }

        if (!string.IsNullOrWhiteSpace(exportId))
        {
            given.Add(new(ImportSourceKind.ExportId, exportId));
        }

        if (!string.IsNullOrWhiteSpace(url))
        {
            given.Add(new(ImportSourceKind.Url, url));
        }

        problem = given.Count switch
        {
            0 => "give what to import: an archive file, --export-id ID or --url URL",
            > 1 => "give one of an archive file, --export-id or --url, not " + string.Join(" and ", given.Select(g => g.Kind switch
            {
                ImportSourceKind.File => "a file",
                ImportSourceKind.ExportId => "--export-id",
                _ => "--url",
            })),
            _ => null,
        };
        if (problem is not null)
        {
            return null;
        }

        var source = given[0];
        if (source.Kind == ImportSourceKind.Url && !(Uri.TryCreate(source.Value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
        {
            problem = $"--url '{source.Value}' is not an http:// or https:// URL";
            return null;
        }

        if (source.Kind == ImportSourceKind.File && !File.Exists(source.Value))
        {
            problem = $"{source.Value} does not exist";
            return null;
        }

        return source;
    }

    /// <summary>The StartImport request; a file's archive id is set after its upload.</summary>
    public StartImportRequest Request() => Kind switch
    {
        ImportSourceKind.ExportId => new StartImportRequest { ExportId = Value },
        ImportSourceKind.Url => new StartImportRequest { ArchiveUrl = Value },
        _ => new StartImportRequest(),
    };
}
