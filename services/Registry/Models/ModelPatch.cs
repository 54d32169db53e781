namespace Microservices.Registry.Models;

/// <summary>
/// The fields an Update changes: a null property is not in the field mask and keeps its value.
/// Status is deliberately absent (SetStatus enforces transitions), as are id and owner.
/// </summary>
internal sealed record ModelPatch
{
    public SourceType? SourceType { get; init; }

    public string? AuthorRepo { get; init; }

    public string? Branch { get; init; }

    public string? ConfigPath { get; init; }

    public string? Alias { get; init; }

    /// <summary>Replaces the whole tag map.</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <summary>The field-mask paths Update accepts, as the proto names them.</summary>
    public static IReadOnlySet<string> Paths { get; } =
        new HashSet<string>(StringComparer.Ordinal) { "source_type", "author_repo", "branch", "config_path", "alias", "tags" };

    public bool IsEmpty =>
        SourceType is null && AuthorRepo is null && Branch is null && ConfigPath is null && Alias is null && Tags is null;
}
