using System.Diagnostics;
using Microservices.Registry.Import;
using Microservices.Registry.Models;

namespace Microservices.Registry.Repositories;

/// <summary>
/// One client span per store operation for a store without instrumentation of its own (SQLite;
/// Npgsql traces PostgreSQL's commands itself), named "{db.operation.name} {db.namespace}" after
/// the OpenTelemetry database conventions, so a request's trace shows where its time went.
/// </summary>
internal sealed class TracedModelStore(IModelStore inner, string system, string databaseName) : IModelStore
{
    /// <summary>Under "Microservices.*", which the host defaults trace.</summary>
    public const string SourceName = "Microservices.Registry";

    private static readonly ActivitySource Source = new(SourceName);

    public string Kind => inner.Kind;

    public Task InitializeAsync(CancellationToken cancellationToken) =>
        Traced("initialize", () => inner.InitializeAsync(cancellationToken));

    public Task<RegisteredModel> InsertAsync(NewModel model, IEnumerable<string> aliasCandidates, DateTimeOffset now, CancellationToken cancellationToken) =>
        Traced("insert", () => inner.InsertAsync(model, aliasCandidates, now, cancellationToken));

    public Task<RegisteredModel?> FindByIdAsync(string owner, string modelId, CancellationToken cancellationToken) =>
        Traced("find_by_id", () => inner.FindByIdAsync(owner, modelId, cancellationToken));

    public Task<RegisteredModel?> FindByAliasAsync(string owner, string alias, CancellationToken cancellationToken) =>
        Traced("find_by_alias", () => inner.FindByAliasAsync(owner, alias, cancellationToken));

    public Task<ModelPage> ListAsync(string owner, ModelQuery query, CancellationToken cancellationToken) =>
        Traced("list", () => inner.ListAsync(owner, query, cancellationToken));

    public Task<RegisteredModel> ChangeAsync(
        string owner, string modelId, long? expectedVersion, Func<RegisteredModel, RegisteredModel> change, DateTimeOffset now, CancellationToken cancellationToken) =>
        Traced("change", () => inner.ChangeAsync(owner, modelId, expectedVersion, change, now, cancellationToken));

    public Task<RegisteredModel> DeleteAsync(string owner, string modelId, long? expectedVersion, Action<RegisteredModel> guard, CancellationToken cancellationToken) =>
        Traced("delete", () => inner.DeleteAsync(owner, modelId, expectedVersion, guard, cancellationToken));

    public Task<StoreImportResult> ImportAsync(string owner, IReadOnlyList<ImportRow> rows, bool allOrNothing, DateTimeOffset now, CancellationToken cancellationToken) =>
        Traced("import", () => inner.ImportAsync(owner, rows, allOrNothing, now, cancellationToken));

    public Task<StoreModelImportResult> ImportModelsAsync(
        string owner, IReadOnlyList<ModelToImport> models, Func<string, IEnumerable<string>> aliasCandidates, bool dryRun, DateTimeOffset now, CancellationToken cancellationToken) =>
        Traced("import_models", () => inner.ImportModelsAsync(owner, models, aliasCandidates, dryRun, now, cancellationToken));

    public Task<BackupResult> BackupAsync(CancellationToken cancellationToken) =>
        Traced("backup", () => inner.BackupAsync(cancellationToken));

    public Task<IntegrityReport> CheckIntegrityAsync(CancellationToken cancellationToken) =>
        Traced("check_integrity", () => inner.CheckIntegrityAsync(cancellationToken));

    public ValueTask DisposeAsync() => inner.DisposeAsync();

    private async Task Traced(string operation, Func<Task> call) =>
        await Traced(operation, async () =>
        {
            await call();
            return true;
        });

    private async Task<T> Traced<T>(string operation, Func<Task<T>> call)
    {
        using var activity = Source.StartActivity($"{operation} {databaseName}", ActivityKind.Client);
        activity?.SetTag("db.system.name", system);
        activity?.SetTag("db.namespace", databaseName);
        activity?.SetTag("db.operation.name", operation);
        try
        {
            return await call();
        }
        catch (Exception e)
        {
            activity?.SetTag("error.type", e.GetType().FullName);
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }
    }
}
