namespace Microservices.Registry.Models;

/// <summary>A model as stored: the domain's view, independent of the wire messages.</summary>
internal sealed record RegisteredModel
{
    public required string Owner { get; init; }

    public required string ModelId { get; init; }

    public required SourceType SourceType { get; init; }

    public required string AuthorRepo { get; init; }

    public required string Branch { get; init; }

    public required string ConfigPath { get; init; }

    /// <summary>Null after RemoveAlias.</summary>
    public string? Alias { get; init; }

    public required ModelStatus Status { get; init; }

    public IReadOnlyDictionary<string, string> Tags { get; init; } = EmptyTags;

    /// <summary>1 when registered, +1 per change; the optimistic-concurrency token.</summary>
    public required long Version { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }

    public static IReadOnlyDictionary<string, string> EmptyTags { get; } = new Dictionary<string, string>();
}
