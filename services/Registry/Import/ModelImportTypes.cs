using Microservices.Registry.Models;

namespace Microservices.Registry.Import;

/// <summary>
/// One model of an ImportModels call (an export archive's model): what Register takes, plus the
/// timestamps the archive kept (null: now). A null alias means "generate one".
/// </summary>
internal sealed record ModelToImport(NewModel Model, DateTimeOffset? CreatedAt, DateTimeOffset? UpdatedAt);

internal enum ModelConflictKind
{
    /// <summary>The owner has a model with this id, with other fields.</summary>
    ModelExists,

    /// <summary>The model is new, but another model of the owner holds its alias.</summary>
    AliasTaken,
}

/// <summary>Why one model can't be imported; <see cref="Alias"/> is the alias it asked for, if any.</summary>
internal sealed record ModelImportConflict(string ModelId, string? Alias, ModelConflictKind Kind, string Message);

/// <summary>
/// What the store found for an ImportModels call: <see cref="New"/> are the models as written
/// (or, when not committed, as they would be written), aliases generated and timestamps set.
/// </summary>
internal sealed record StoreModelImportResult(
    bool Committed,
    IReadOnlyList<RegisteredModel> New,
    int Unchanged,
    IReadOnlyList<ModelImportConflict> Conflicts);

/// <summary>The answer to ImportModels: at most <see cref="ModelImportLimits.MaxListedConflicts"/> conflicts listed, all counted.</summary>
internal sealed record ModelImportReport(
    bool Committed,
    int Imported,
    int Unchanged,
    IReadOnlyList<ModelImportConflict> Conflicts,
    int ConflictCount);

internal static class ModelImportLimits
{
    public const int MaxModelsPerMessage = 500;
    public const int MaxModelsPerCall = 100_000;
    public const int MaxListedConflicts = 100;

    public static void EnsureMessageSize(int models)
    {
        if (models > MaxModelsPerMessage)
        {
            throw RegistryException.InvalidArgument("models", $"at most {MaxModelsPerMessage} models per message, got {models}; send the rest in further messages of the same call");
        }
    }
}
