namespace Microservices.Registry.Models;

internal enum ModelOrder
{
    ModelId,
    CreatedAt,
    UpdatedAt,
}

/// <summary>A List call: AND-ed filters (null = any), an order and one page.</summary>
internal sealed record ModelQuery
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 500;

    public SourceType? SourceType { get; init; }

    public ModelStatus? Status { get; init; }

    public string? AuthorRepo { get; init; }

    /// <summary>Matches models whose id or alias starts with this (ordinal, case-sensitive).</summary>
    public string? Prefix { get; init; }

    public string? TagKey { get; init; }

    /// <summary>With <see cref="TagKey"/>: the exact value; null matches any value.</summary>
    public string? TagValue { get; init; }

    public ModelOrder OrderBy { get; init; } = ModelOrder.ModelId;

    public bool Descending { get; init; }

    /// <summary>0 means <see cref="DefaultPageSize"/>.</summary>
    public int PageSize { get; init; }

    public string? PageToken { get; init; }

    /// <summary>Also count every model the filters match, ignoring paging (<see cref="ModelPage.TotalCount"/>).</summary>
    public bool IncludeTotalCount { get; init; }
}

/// <summary><see cref="TotalCount"/> is set only when the query asked for it.</summary>
internal sealed record ModelPage(IReadOnlyList<RegisteredModel> Models, string? NextPageToken, long? TotalCount = null);
