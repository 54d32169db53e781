using Microservices.Registry.Models;

namespace Microservices.Registry.Changes;

internal enum ModelChangeKind
{
    Created,
    Updated,
    Deleted,
}

/// <summary>
/// One committed write. <see cref="Sequence"/> orders changes within this process; for
/// Deleted, <see cref="Model"/> is the model as it was.
/// </summary>
internal sealed record ModelChange(long Sequence, ModelChangeKind Kind, RegisteredModel Model, DateTimeOffset CommittedAt)
{
    public string Owner => Model.Owner;

    public string ModelId => Model.ModelId;
}
