namespace Microservices.Registry.Models;

/// <summary>What Register is asked to add. A null alias means "generate one".</summary>
internal sealed record NewModel
{
    public required string Owner { get; init; }

    public required string ModelId { get; init; }

    public required SourceType SourceType { get; init; }

    public required string AuthorRepo { get; init; }

    public required string Branch { get; init; }

    public required string ConfigPath { get; init; }

    public string? Alias { get; init; }

    public ModelStatus Status { get; init; } = ModelStatus.Ready;

    public IReadOnlyDictionary<string, string> Tags { get; init; } = RegisteredModel.EmptyTags;
}
