using Microservices.Registry.Import;
using Microservices.Registry.Models;

namespace Microservices.Registry.Repositories;

/// <summary>
/// Where models live. Each call is one transaction on a pooled connection. Inputs are already
/// validated by <see cref="ModelRegistry"/>; the store enforces what only the database can
/// (uniqueness, versions, atomicity) and throws <see cref="RegistryException"/> for it.
/// </summary>
internal interface IModelStore : IAsyncDisposable
{
    /// <summary>"sqlite" or "postgres".</summary>
    string Kind { get; }

    /// <summary>
    /// Checks the database and brings its schema up to date. Throws
    /// <see cref="RegistryStartupException"/> when the service must not start (corrupt file,
    /// schema newer than this build, failed migration); nothing is overwritten then.
    /// </summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Adds a model. With no alias, takes the first of <paramref name="aliasCandidates"/> no
    /// other model of the owner holds.
    /// </summary>
    Task<RegisteredModel> InsertAsync(NewModel model, IEnumerable<string> aliasCandidates, DateTimeOffset now, CancellationToken cancellationToken);

    Task<RegisteredModel?> FindByIdAsync(string owner, string modelId, CancellationToken cancellationToken);

    Task<RegisteredModel?> FindByAliasAsync(string owner, string alias, CancellationToken cancellationToken);

    /// <summary>One page; with <see cref="ModelQuery.IncludeTotalCount"/> also the count of every match, read in the same snapshot.</summary>
    Task<ModelPage> ListAsync(string owner, ModelQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Reads the model, checks <paramref name="expectedVersion"/> (Aborted when stale), applies
    /// <paramref name="change"/> (which may refuse by throwing) and writes the result with the
    /// next version, all in one transaction.
    /// </summary>
    Task<RegisteredModel> ChangeAsync(
        string owner,
        string modelId,
        long? expectedVersion,
        Func<RegisteredModel, RegisteredModel> change,
        DateTimeOffset now,
        CancellationToken cancellationToken);

    /// <summary>Deletes the model if <paramref name="guard"/> doesn't throw; returns it as it was.</summary>
    Task<RegisteredModel> DeleteAsync(
        string owner,
        string modelId,
        long? expectedVersion,
        Action<RegisteredModel> guard,
        CancellationToken cancellationToken);

    /// <summary>
    /// Imports parsed model.list rows in one transaction: new ids are inserted, ids already
    /// registered with the same fields are unchanged, anything else is a per-line conflict.
    /// With <paramref name="allOrNothing"/>, any conflict rolls everything back.
    /// </summary>
    Task<StoreImportResult> ImportAsync(
        string owner,
        IReadOnlyList<ImportRow> rows,
        bool allOrNothing,
        DateTimeOffset now,
        CancellationToken cancellationToken);

    /// <summary>
    /// Imports exported models (validated, ids and aliases unique among them) all or nothing:
    /// each is new, unchanged (registered with the same fields; a null alias matches any), or a
    /// conflict (<see cref="ModelConflictKind"/>). A new model without an alias takes the first
    /// of its <paramref name="aliasCandidates"/> that no model holds and no model of the call
    /// asks for. Written in one transaction only when nothing conflicts and not
    /// <paramref name="dryRun"/>; a dry run reads a snapshot and never takes the write lock.
    /// </summary>
    Task<StoreModelImportResult> ImportModelsAsync(
        string owner,
        IReadOnlyList<ModelToImport> models,
        Func<string, IEnumerable<string>> aliasCandidates,
        bool dryRun,
        DateTimeOffset now,
        CancellationToken cancellationToken);

    /// <summary>An online copy of the database in the store's backup directory, under a name the store makes.</summary>
    Task<BackupResult> BackupAsync(CancellationToken cancellationToken);

    Task<IntegrityReport> CheckIntegrityAsync(CancellationToken cancellationToken);
}
