using Microservices.Registry.Aliases;
using Microservices.Registry.Changes;
using Microservices.Registry.Import;
using Microservices.Registry.Models;
using Microservices.Registry.Repositories;

namespace Microservices.Registry;

/// <summary>
/// The registry's domain API: what the gRPC handler (and the CLI) call. It validates every
/// input (InvalidArgument naming field and rule), applies the rules (alias generation, legal
/// status transitions, no deleting a RUNNING model unless forced), delegates storage to
/// <see cref="IModelStore"/>, and publishes each committed write to <see cref="Changes"/>.
/// Every refusal is a <see cref="RegistryException"/> whose Kind is the gRPC status code.
/// </summary>
internal sealed class ModelRegistry
{
    private readonly IModelStore _store;
    private readonly TimeProvider _time;

    public ModelRegistry(IModelStore store, ModelChangeFeed changes, TimeProvider time)
    {
        _store = store;
        Changes = changes;
        _time = time;
    }

    public ModelChangeFeed Changes { get; }

    public async Task<RegisteredModel> RegisterAsync(NewModel model, CancellationToken cancellationToken)
    {
        var valid = ModelRules.NewModel(model);
        var stored = await _store.InsertAsync(valid, AliasGenerator.Candidates(valid.ModelId), Now(), cancellationToken);
        Changes.Publish(ModelChangeKind.Created, stored, stored.UpdatedAt);
        return stored;
    }

    public async Task<RegisteredModel> GetByIdAsync(string owner, string modelId, CancellationToken cancellationToken)
    {
        owner = ModelRules.Owner(owner);
        modelId = ModelRules.ModelId(modelId);
        return await _store.FindByIdAsync(owner, modelId, cancellationToken)
            ?? throw RegistryException.NotFound(owner, $"with id '{modelId}'");
    }

    public async Task<RegisteredModel> GetByAliasAsync(string owner, string alias, CancellationToken cancellationToken)
    {
        owner = ModelRules.Owner(owner);
        alias = ModelRules.Alias(alias);
        return await _store.FindByAliasAsync(owner, alias, cancellationToken)
            ?? throw RegistryException.NotFound(owner, $"with alias '{alias}'");
    }

    /// <summary>Cortex-style lookup for CLIs: the id first, then the alias.</summary>
    public async Task<RegisteredModel> ResolveAsync(string owner, string idOrAlias, CancellationToken cancellationToken)
    {
        owner = ModelRules.Owner(owner);
        idOrAlias = ModelRules.ModelId(idOrAlias);
        return await _store.FindByIdAsync(owner, idOrAlias, cancellationToken)
            ?? (idOrAlias.Length <= ModelRules.MaxAliasLength ? await _store.FindByAliasAsync(owner, idOrAlias, cancellationToken) : null)
            ?? throw RegistryException.NotFound(owner, $"with id or alias '{idOrAlias}'");
    }

    public Task<ModelPage> ListAsync(string owner, ModelQuery query, CancellationToken cancellationToken)
    {
        owner = ModelRules.Owner(owner);
        if (query.PageSize < 0)
        {
            throw RegistryException.InvalidArgument("page_size", $"must be 0 (default {ModelQuery.DefaultPageSize}) or positive");
        }

        var valid = query with
        {
            // Larger pages are served at the maximum, as AIP-158 recommends, rather than refused.
            PageSize = Math.Min(query.PageSize, ModelQuery.MaxPageSize),
            SourceType = query.SourceType is { } sourceType ? ModelRules.Defined(sourceType, "source_type") : null,
            Status = query.Status is { } status ? ModelRules.Defined(status, "status") : null,
            AuthorRepo = query.AuthorRepo is null ? null : ModelRules.AuthorRepo(query.AuthorRepo),
            Prefix = string.IsNullOrEmpty(query.Prefix) ? null : ModelRules.Prefix(query.Prefix),
            TagKey = query.TagKey is null ? null : ModelRules.TagKey(query.TagKey),
            TagValue = query.TagKey is null || query.TagValue is null ? null : ModelRules.TagValue(query.TagKey, query.TagValue),
            OrderBy = ModelRules.Defined(query.OrderBy, "order_by"),
        };
        return _store.ListAsync(owner, valid, cancellationToken);
    }

    /// <summary>Changes the patched fields if the model is still at <paramref name="expectedVersion"/>.</summary>
    public async Task<RegisteredModel> UpdateAsync(string owner, string modelId, ModelPatch patch, long expectedVersion, CancellationToken cancellationToken)
    {
        owner = ModelRules.Owner(owner);
        modelId = ModelRules.ModelId(modelId);
        var version = ModelRules.ExpectedVersion(expectedVersion, required: true);
        if (patch.IsEmpty)
        {
            throw RegistryException.InvalidArgument("update_mask", $"must name at least one of: {string.Join(", ", ModelPatch.Paths)}");
        }

        var sourceType = patch.SourceType is { } s ? ModelRules.Defined(s, "source_type") : (SourceType?)null;
        var authorRepo = patch.AuthorRepo is null ? null : ModelRules.AuthorRepo(patch.AuthorRepo);
        var branch = patch.Branch is null ? null : ModelRules.Branch(patch.Branch);
        var configPath = patch.ConfigPath is null ? null : ModelRules.ConfigPath(patch.ConfigPath);
        var alias = patch.Alias is null ? null : ModelRules.Alias(patch.Alias);
        var tags = patch.Tags is null ? null : ModelRules.Tags(patch.Tags);

        var updated = await _store.ChangeAsync(owner, modelId, version, current => current with
        {
            SourceType = sourceType ?? current.SourceType,
            AuthorRepo = authorRepo ?? current.AuthorRepo,
            Branch = branch ?? current.Branch,
            ConfigPath = configPath ?? current.ConfigPath,
            Alias = alias ?? current.Alias,
            Tags = tags ?? current.Tags,
        }, Now(), cancellationToken);
        Changes.Publish(ModelChangeKind.Updated, updated, updated.UpdatedAt);
        return updated;
    }

    /// <summary>Removes a model; a RUNNING one only with <paramref name="force"/>.</summary>
    public async Task DeleteAsync(string owner, string modelId, bool force, long expectedVersion, CancellationToken cancellationToken)
    {
        owner = ModelRules.Owner(owner);
        modelId = ModelRules.ModelId(modelId);
        var version = ModelRules.ExpectedVersion(expectedVersion, required: false);
        var deleted = await _store.DeleteAsync(owner, modelId, version, current =>
        {
            if (current.Status == ModelStatus.Running && !force)
            {
                throw RegistryException.FailedPrecondition(
                    $"Model '{modelId}' is RUNNING; stop it first (SetStatus READY) or delete with force.");
            }
        }, cancellationToken);
        Changes.Publish(ModelChangeKind.Deleted, deleted, Now());
    }

    public async Task<RegisteredModel> SetStatusAsync(string owner, string modelId, ModelStatus status, long expectedVersion, CancellationToken cancellationToken)
    {
        owner = ModelRules.Owner(owner);
        modelId = ModelRules.ModelId(modelId);
        status = ModelRules.Defined(status, "status");
        var version = ModelRules.ExpectedVersion(expectedVersion, required: false);
        var updated = await _store.ChangeAsync(owner, modelId, version, current =>
        {
            if (!ModelStatuses.CanTransition(current.Status, status))
            {
                throw RegistryException.FailedPrecondition(
                    $"Model '{modelId}' is already {current.Status.ToStorage()}; legal transitions are READY -> RUNNING and RUNNING -> READY.");
            }

            return current with { Status = status };
        }, Now(), cancellationToken);
        Changes.Publish(ModelChangeKind.Updated, updated, updated.UpdatedAt);
        return updated;
    }

    public async Task<RegisteredModel> SetAliasAsync(string owner, string modelId, string alias, long expectedVersion, CancellationToken cancellationToken)
    {
        owner = ModelRules.Owner(owner);
        modelId = ModelRules.ModelId(modelId);
        alias = ModelRules.Alias(alias);
        var version = ModelRules.ExpectedVersion(expectedVersion, required: false);
        var updated = await _store.ChangeAsync(owner, modelId, version, current => current with { Alias = alias }, Now(), cancellationToken);
        Changes.Publish(ModelChangeKind.Updated, updated, updated.UpdatedAt);
        return updated;
    }

    public async Task<RegisteredModel> RemoveAliasAsync(string owner, string modelId, long expectedVersion, CancellationToken cancellationToken)
    {
        owner = ModelRules.Owner(owner);
        modelId = ModelRules.ModelId(modelId);
        var version = ModelRules.ExpectedVersion(expectedVersion, required: false);
        var updated = await _store.ChangeAsync(owner, modelId, version, current => current with { Alias = null }, Now(), cancellationToken);
        Changes.Publish(ModelChangeKind.Updated, updated, updated.UpdatedAt);
        return updated;
    }

    /// <summary>Starts a watch of the owner's changes (the Watch stream's source).</summary>
    public ModelWatch Watch(string owner) => Changes.Watch(owner);

    /// <summary>
    /// Imports a legacy model.list read from <paramref name="content"/> (the handler's chunks, or
    /// a file). Nothing reads the source again or writes to it.
    /// </summary>
    public async Task<ImportReport> ImportModelListAsync(string owner, Stream content, ImportMode mode, CancellationToken cancellationToken)
    {
        owner = ModelRules.Owner(owner);
        mode = ModelRules.Defined(mode, "mode");
        var bytes = await ReadBoundedAsync(content, ModelListParser.MaxBytes, cancellationToken);
        var parsed = ModelListParser.Parse(bytes, owner);

        if (mode == ImportMode.AllOrNothing && parsed.Errors.Count > 0)
        {
            return new ImportReport(false, 0, 0, parsed.BlankLines, parsed.Errors);
        }

        var result = await _store.ImportAsync(owner, parsed.Rows, mode == ImportMode.AllOrNothing, Now(), cancellationToken);
        foreach (var model in result.Created)
        {
            Changes.Publish(ModelChangeKind.Created, model, model.CreatedAt);
        }

        var errors = parsed.Errors.Concat(result.Conflicts).OrderBy(e => e.LineNumber).ToList();
        return new ImportReport(result.Committed, result.Created.Count, result.Unchanged, parsed.BlankLines, errors);
    }

    /// <summary>
    /// Imports exported models, all or nothing: <paramref name="messages"/> are the call's
    /// messages as they arrive (at most <see cref="ModelImportLimits.MaxModelsPerMessage"/>
    /// models each). Everything is read and checked before the store is touched, so a stream
    /// that breaks off midway writes nothing. Any conflict, or <paramref name="dryRun"/>: nothing
    /// is written, and the report says what a run would do.
    /// </summary>
    public async Task<ModelImportReport> ImportModelsAsync(
        string owner, IAsyncEnumerable<IReadOnlyList<ModelToImport>> messages, bool dryRun, CancellationToken cancellationToken)
    {
        owner = ModelRules.Owner(owner);
        var collector = new ModelImportCollector(owner);
        await foreach (var message in messages.WithCancellation(cancellationToken))
        {
            collector.Add(message);
        }

        var now = Now();
        var result = await _store.ImportModelsAsync(owner, collector.Models, AliasGenerator.Candidates, dryRun, now, cancellationToken);
        if (result.Committed)
        {
            foreach (var model in result.New)
            {
                Changes.Publish(ModelChangeKind.Created, model, now);
            }
        }

        return new ModelImportReport(
            result.Committed, result.New.Count, result.Unchanged, result.Conflicts.Take(ModelImportLimits.MaxListedConflicts).ToList(), result.Conflicts.Count);
    }

    /// <summary>The CLI's import: opens the file read-only (and lets others keep reading it).</summary>
    public async Task<ImportReport> ImportModelListFileAsync(string owner, string path, ImportMode mode, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return await ImportModelListAsync(owner, file, mode, cancellationToken);
    }

    /// <summary>
    /// An online backup into the configured backup directory. <paramref name="destinationPath"/> is the
    /// old request field: a caller-chosen server path let anyone write the whole database anywhere the
    /// service can write, so any value is refused (before the store is asked, PostgreSQL included).
    /// </summary>
    public Task<BackupResult> BackupAsync(string? destinationPath, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(destinationPath))
        {
            throw RegistryException.InvalidArgument(
                "destination_path", "is no longer accepted: backups go to Registry:Backup:Directory under a name the server chooses");
        }

        return _store.BackupAsync(cancellationToken);
    }

    public Task<IntegrityReport> CheckIntegrityAsync(CancellationToken cancellationToken) =>
        _store.CheckIntegrityAsync(cancellationToken);

    // The stores keep milliseconds; truncating here makes what a write returns equal what a read returns.
    private DateTimeOffset Now()
    {
        var now = _time.GetUtcNow();
        return now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMillisecond));
    }

    private static async Task<byte[]> ReadBoundedAsync(Stream content, long maxBytes, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[1 << 16];
        int read;
        while ((read = await content.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                throw RegistryException.InvalidArgument("content", $"a model.list may be at most {maxBytes / (1024 * 1024)} MiB");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
