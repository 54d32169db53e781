using System.Data.Common;
using Microservices.Registry.Import;
using Microservices.Registry.Models;

namespace Microservices.Registry.Repositories;

/// <summary>
/// The operations both stores share, written once over ADO.NET: SQLite and PostgreSQL differ
/// only in connections, transactions, locking, error codes and a few SQL fragments, which the
/// subclasses supply.
/// </summary>
internal abstract class SqlModelStore : IModelStore
{
    private const int MaxAliasRaceRetries = 10;

    public const long DefaultMaxModelsPerOwner = 1_000_000;
    public const string MaxModelsPerOwnerKey = "Registry:Limits:MaxModelsPerOwner";

    public abstract string Kind { get; }

    /// <summary>
    /// The owner's storage quota in models, checked inside every write that adds rows (a small
    /// ImportModels call can add 100,000). Set once where the store is made.
    /// </summary>
    public long MaxModelsPerOwner { get; set; } = DefaultMaxModelsPerOwner;

    /// <summary>A correlated subquery over <c>m</c> giving the model's tags as a JSON object.</summary>
    protected abstract string TagsJsonSql { get; }

    /// <summary>Appended to the row read of a write ("FOR UPDATE" where rows can be locked).</summary>
    protected virtual string LockRowSql => "";

    /// <summary>
    /// Run in a write that adds an owner's models before counting them, so two such writes take
    /// turns; null where the transaction already holds the only write lock (SQLite).
    /// </summary>
    protected virtual string? LockOwnerForAddSql => null;

    public abstract Task InitializeAsync(CancellationToken cancellationToken);

    public abstract Task<BackupResult> BackupAsync(CancellationToken cancellationToken);

    public abstract Task<IntegrityReport> CheckIntegrityAsync(CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();

    protected internal abstract ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Begins a transaction that will write; may wait for the right to write. A bulk write (an
    /// import) may get more resources for its duration.
    /// </summary>
    protected abstract ValueTask<StoreTransaction> BeginWriteAsync(CancellationToken cancellationToken, bool bulk = false);

    /// <summary>
    /// Begins a read-only transaction whose statements all see one snapshot, without the right
    /// to write (a dry run never holds up writers).
    /// </summary>
    protected abstract ValueTask<StoreTransaction> BeginSnapshotAsync(CancellationToken cancellationToken);

    /// <summary>Which unique constraint a provider exception violated, if any.</summary>
    protected abstract UniqueViolation? ClassifyUniqueViolation(DbException exception);

    /// <summary>
    /// Before a bulk write of <paramref name="newRows"/> rows: a store may drop secondary indexes
    /// (inside the transaction) and return the statements that rebuild them afterwards. None by default.
    /// </summary>
    protected virtual Task<IReadOnlyList<string>> SuspendIndexesForBulkAsync(
        DbConnection connection, DbTransaction transaction, int newRows, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>([]);

    public async Task<RegisteredModel> InsertAsync(NewModel model, IEnumerable<string> aliasCandidates, DateTimeOffset now, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await InsertOnceAsync(model, aliasCandidates, now, cancellationToken);
            }
            catch (DbException e) when (ClassifyUniqueViolation(e) is { } violation)
            {
                // Another replica took the id or alias between our check and our insert.
                if (violation == UniqueViolation.Alias && model.Alias is null && attempt < MaxAliasRaceRetries)
                {
                    continue;
                }

                throw violation == UniqueViolation.Alias
                    ? RegistryException.AlreadyExists($"Alias '{model.Alias}' is already used by another model of owner '{model.Owner}'.")
                    : RegistryException.AlreadyExists($"Model '{model.ModelId}' is already registered for owner '{model.Owner}'.");
            }
        }
    }

    public async Task<RegisteredModel?> FindByIdAsync(string owner, string modelId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await ReadModelAsync(connection, null, owner, modelId, forUpdate: false, cancellationToken);
    }

    public async Task<RegisteredModel?> FindByAliasAsync(string owner, string alias, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = DbCommands.Create(
            connection, null, $"SELECT {ModelRows.Columns}, {TagsJsonSql} FROM models m WHERE m.owner = @owner AND m.alias = @alias");
        command.Add("@owner", owner);
        command.Add("@alias", alias);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ModelRows.Read(reader) : null;
    }

    public async Task<ModelPage> ListAsync(string owner, ModelQuery query, CancellationToken cancellationToken)
    {
        var fingerprint = PageToken.FingerprintOf(owner, query);
        var after = string.IsNullOrEmpty(query.PageToken) ? null : PageToken.Decode(query.PageToken, fingerprint);
        var pageSize = query.PageSize == 0 ? ModelQuery.DefaultPageSize : query.PageSize;

        // The count and the page come from one snapshot, so a write between them can't make them disagree.
        await using var snapshot = query.IncludeTotalCount ? await BeginSnapshotAsync(cancellationToken) : null;
        await using var connection = snapshot is null ? await OpenAsync(cancellationToken) : null;
        var (db, transaction) = snapshot is null ? (connection!, null) : (snapshot.Connection, snapshot.Transaction);

        var models = new List<RegisteredModel>(pageSize + 1);
        await using (var command = DbCommands.Create(db, transaction, ""))
        {
            ListQuery.Build(command, owner, query, after, pageSize + 1, TagsJsonSql);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                models.Add(ModelRows.Read(reader));
            }
        }

        long? total = null;
        if (snapshot is not null)
        {
            await using var count = DbCommands.Create(db, transaction, "");
            ListQuery.BuildCount(count, owner, query);
            total = Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
            await snapshot.CommitAsync(cancellationToken);
        }

        string? next = null;
        if (models.Count > pageSize)
        {
            models.RemoveAt(models.Count - 1);
            var last = models[^1];
            next = new PageToken(ListQuery.SortValueOf(last, query.OrderBy), last.ModelId, fingerprint).Encode();
        }

        return new ModelPage(models, next, total);
    }

    public async Task<RegisteredModel> ChangeAsync(
        string owner,
        string modelId,
        long? expectedVersion,
        Func<RegisteredModel, RegisteredModel> change,
        DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = await BeginWriteAsync(cancellationToken);
            var (connection, transaction) = (scope.Connection, scope.Transaction);
            var current = await ReadForWriteAsync(connection, transaction, owner, modelId, expectedVersion, cancellationToken);
            var changed = change(current) with
            {
                Owner = current.Owner,
                ModelId = current.ModelId,
                Version = current.Version + 1,
                CreatedAt = current.CreatedAt,
                UpdatedAt = now,
            };

            if (changed.Alias is { } alias && alias != current.Alias)
            {
                await EnsureAliasFreeAsync(connection, transaction, owner, alias, modelId, cancellationToken);
            }

            await using (var update = DbCommands.Create(connection, transaction, """
                UPDATE models SET source_type = @source_type, author_repo = @author_repo, branch = @branch,
                    config_path = @config_path, alias = @alias, status = @status, version = @version, updated_at = @updated_at
                WHERE owner = @owner AND model_id = @model_id AND version = @old_version
                """))
            {
                ModelSql.AddModelColumns(update, changed);
                update.Add("@old_version", current.Version);
                if (await update.ExecuteNonQueryAsync(cancellationToken) != 1)
                {
                    // The row is locked (or writes are serialized) for this transaction: unreachable unless that breaks.
                    throw new InvalidOperationException($"Model '{modelId}' changed under a write lock.");
                }
            }

            if (!ModelDifferences.TagsEqual(current.Tags, changed.Tags))
            {
                await using (var delete = DbCommands.Create(connection, transaction, "DELETE FROM model_tags WHERE owner = @owner AND model_id = @model_id"))
                {
                    delete.Add("@owner", owner);
                    delete.Add("@model_id", modelId);
                    await delete.ExecuteNonQueryAsync(cancellationToken);
                }

                await ModelSql.InsertTagsAsync(connection, transaction, changed, cancellationToken);
            }

            await scope.CommitAsync(cancellationToken);
            return changed;
        }
        catch (DbException e) when (ClassifyUniqueViolation(e) == UniqueViolation.Alias)
        {
            throw RegistryException.AlreadyExists($"That alias was just taken by another model of owner '{owner}'.");
        }
    }

    public async Task<RegisteredModel> DeleteAsync(
        string owner,
        string modelId,
        long? expectedVersion,
        Action<RegisteredModel> guard,
        CancellationToken cancellationToken)
    {
        await using var scope = await BeginWriteAsync(cancellationToken);
        var current = await ReadForWriteAsync(scope.Connection, scope.Transaction, owner, modelId, expectedVersion, cancellationToken);
        guard(current);

        // Tags go with it: model_tags references models ON DELETE CASCADE (foreign keys are on).
        await using (var delete = DbCommands.Create(scope.Connection, scope.Transaction, "DELETE FROM models WHERE owner = @owner AND model_id = @model_id"))
        {
            delete.Add("@owner", owner);
            delete.Add("@model_id", modelId);
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }

        await scope.CommitAsync(cancellationToken);
        return current;
    }

    public async Task<StoreImportResult> ImportAsync(
        string owner,
        IReadOnlyList<ImportRow> rows,
        bool allOrNothing,
        DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = await BeginWriteAsync(cancellationToken, bulk: true);
            var (connection, transaction) = (scope.Connection, scope.Transaction);

            // One read of the owner's models instead of a lookup per line keeps a 100k-line import to one statement per row.
            var existing = new Dictionary<string, RegisteredModel>(StringComparer.Ordinal);
            var aliasHolders = new Dictionary<string, string>(StringComparer.Ordinal);
            await using (var select = DbCommands.Create(connection, transaction, $"SELECT {ModelRows.Columns}, NULL FROM models m WHERE m.owner = @owner"))
            {
                select.Add("@owner", owner);
                await using var reader = await select.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    var model = ModelRows.Read(reader);
                    existing[model.ModelId] = model;
                    if (model.Alias is not null)
                    {
                        aliasHolders[model.Alias] = model.ModelId;
                    }
                }
            }

            var created = new List<RegisteredModel>();
            var conflicts = new List<ImportLineError>();
            var unchanged = 0;
            foreach (var row in rows)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var model = row.Model;
                if (existing.TryGetValue(model.ModelId, out var registered))
                {
                    var differences = ModelDifferences.Of(registered, model, compareTags: false);
                    if (differences.Count == 0)
                    {
                        unchanged++;
                    }
                    else
                    {
                        conflicts.Add(new ImportLineError(row.LineNumber,
                            $"model_id '{model.ModelId}' is already registered with a different {string.Join(", ", differences)}; the registry was not changed"));
                    }

                    continue;
                }

                if (model.Alias is { } alias && aliasHolders.TryGetValue(alias, out var holder))
                {
                    conflicts.Add(new ImportLineError(row.LineNumber, $"alias '{alias}' is already used by model '{holder}'"));
                    continue;
                }

                var stored = NewRow(model, now);
                existing[stored.ModelId] = stored;
                if (stored.Alias is not null)
                {
                    aliasHolders[stored.Alias] = stored.ModelId;
                }

                created.Add(stored);
            }

            await WriteNewRowsAsync(connection, transaction, created, cancellationToken);
            if (allOrNothing && conflicts.Count > 0)
            {
                await scope.RollbackAsync(cancellationToken);
                return new StoreImportResult(false, [], 0, conflicts);
            }

            await scope.CommitAsync(cancellationToken);
            return new StoreImportResult(true, created, unchanged, conflicts);
        }
        catch (DbException e) when (ClassifyUniqueViolation(e) is not null)
        {
            throw ImportRaced(owner);
        }
    }

    public async Task<StoreModelImportResult> ImportModelsAsync(
        string owner,
        IReadOnlyList<ModelToImport> models,
        Func<string, IEnumerable<string>> aliasCandidates,
        bool dryRun,
        DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = dryRun ? await BeginSnapshotAsync(cancellationToken) : await BeginWriteAsync(cancellationToken, bulk: true);
            var plan = await ModelImportPlanner.PlanAsync(
                scope.Connection, scope.Transaction, owner, models, aliasCandidates, TagsJsonSql, now, cancellationToken);
            if (dryRun || plan.Conflicts.Count > 0)
            {
                await scope.RollbackAsync(cancellationToken);
                return new StoreModelImportResult(false, plan.New, plan.Unchanged, plan.Conflicts);
            }

            await WriteNewRowsAsync(scope.Connection, scope.Transaction, plan.New, cancellationToken);
            await scope.CommitAsync(cancellationToken);
            return new StoreModelImportResult(true, plan.New, plan.Unchanged, []);
        }
        catch (DbException e) when (ClassifyUniqueViolation(e) is not null)
        {
            throw ImportRaced(owner);
        }
    }

    private static RegistryException ImportRaced(string owner) =>
        new(RegistryErrorKind.Aborted,
            $"Another writer registered some of these models during the import of owner '{owner}'; nothing was imported. Import again.");

    /// <summary>An import's new rows, inside its transaction.</summary>
    private async Task WriteNewRowsAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<RegisteredModel> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return;
        }

        await EnsureRoomAsync(connection, transaction, rows[0].Owner, rows.Count, cancellationToken);
        await using var writer = await ImportWriter.CreateAsync(connection, transaction, cancellationToken);

        // Written in key order: every index is led by owner and ends with model_id, and ids
        // sort with author_repo, so the B-trees (table, primary key and five of the six
        // indexes) grow at their right edge instead of splitting pages all over; in file
        // order a 100k import spent most of its time there. The caller's list keeps its order.
        var rebuild = await SuspendIndexesForBulkAsync(connection, transaction, rows.Count, cancellationToken);
        foreach (var row in rows.OrderBy(m => m.ModelId, StringComparer.Ordinal))
        {
            await writer.AddAsync(row, cancellationToken);
        }

        await writer.FlushAsync(cancellationToken);
        foreach (var statement in rebuild)
        {
            await using var create = DbCommands.Create(connection, transaction, statement);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    protected static RegisteredModel NewRow(NewModel model, DateTimeOffset now) => new()
    {
        Owner = model.Owner,
        ModelId = model.ModelId,
        SourceType = model.SourceType,
        AuthorRepo = model.AuthorRepo,
        Branch = model.Branch,
        ConfigPath = model.ConfigPath,
        Alias = model.Alias,
        Status = model.Status,
        Tags = model.Tags,
        Version = 1,
        CreatedAt = now,
        UpdatedAt = now,
    };

    private async Task<RegisteredModel> InsertOnceAsync(NewModel model, IEnumerable<string> aliasCandidates, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var scope = await BeginWriteAsync(cancellationToken);
        var (connection, transaction) = (scope.Connection, scope.Transaction);

        if (await ReadModelAsync(connection, transaction, model.Owner, model.ModelId, forUpdate: false, cancellationToken) is not null)
        {
            throw RegistryException.AlreadyExists($"Model '{model.ModelId}' is already registered for owner '{model.Owner}'.");
        }

        var alias = model.Alias;
        if (alias is not null)
        {
            await EnsureAliasFreeAsync(connection, transaction, model.Owner, alias, model.ModelId, cancellationToken);
        }
        else
        {
            foreach (var candidate in aliasCandidates)
            {
                if (await AliasHolderAsync(connection, transaction, model.Owner, candidate, cancellationToken) is null)
                {
                    alias = candidate;
                    break;
                }
            }
        }

        await EnsureRoomAsync(connection, transaction, model.Owner, 1, cancellationToken);
        var stored = NewRow(model with { Alias = alias }, now);
        await using (var insert = DbCommands.Create(connection, transaction, ModelSql.InsertModel))
        {
            ModelSql.AddModelColumns(insert, stored);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await ModelSql.InsertTagsAsync(connection, transaction, stored, cancellationToken);
        await scope.CommitAsync(cancellationToken);
        return stored;
    }

    private async Task<RegisteredModel> ReadForWriteAsync(
        DbConnection connection, DbTransaction transaction, string owner, string modelId, long? expectedVersion, CancellationToken cancellationToken)
    {
        var current = await ReadModelAsync(connection, transaction, owner, modelId, forUpdate: true, cancellationToken)
            ?? throw RegistryException.NotFound(owner, $"with id '{modelId}'");
        if (expectedVersion is { } expected && expected != current.Version)
        {
            throw RegistryException.StaleVersion(modelId, expected, current.Version);
        }

        return current;
    }

    private async Task<RegisteredModel?> ReadModelAsync(
        DbConnection connection, DbTransaction? transaction, string owner, string modelId, bool forUpdate, CancellationToken cancellationToken)
    {
        var sql = $"SELECT {ModelRows.Columns}, {TagsJsonSql} FROM models m WHERE m.owner = @owner AND m.model_id = @model_id";
        await using var command = DbCommands.Create(connection, transaction, forUpdate ? sql + LockRowSql : sql);
        command.Add("@owner", owner);
        command.Add("@model_id", modelId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ModelRows.Read(reader) : null;
    }

    /// <summary>
    /// RESOURCE_EXHAUSTED when the owner's models plus <paramref name="adding"/> would pass the
    /// quota. Counted in the write's transaction, after the owner's lock where the store needs one
    /// (PostgreSQL's read committed would otherwise let two writers both count the old total).
    /// </summary>
    private async Task EnsureRoomAsync(DbConnection connection, DbTransaction transaction, string owner, int adding, CancellationToken cancellationToken)
    {
        if (LockOwnerForAddSql is { } lockOwner)
        {
            await using var serialize = DbCommands.Create(connection, transaction, lockOwner);
            serialize.Add("@owner", owner);
            await serialize.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var count = DbCommands.Create(connection, transaction, "SELECT COUNT(*) FROM models WHERE owner = @owner");
        count.Add("@owner", owner);
        var held = Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        if (held + adding > MaxModelsPerOwner)
        {
            throw RegistryException.ResourceExhausted(
                $"owner '{owner}' has {held} models; {adding} more would pass the quota of {MaxModelsPerOwner} ({MaxModelsPerOwnerKey}); nothing was written");
        }
    }

    private static async Task<string?> AliasHolderAsync(DbConnection connection, DbTransaction transaction, string owner, string alias, CancellationToken cancellationToken)
    {
        await using var command = DbCommands.Create(connection, transaction, "SELECT model_id FROM models WHERE owner = @owner AND alias = @alias");
        command.Add("@owner", owner);
        command.Add("@alias", alias);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    private static async Task EnsureAliasFreeAsync(
        DbConnection connection, DbTransaction transaction, string owner, string alias, string forModelId, CancellationToken cancellationToken)
    {
        var holder = await AliasHolderAsync(connection, transaction, owner, alias, cancellationToken);
        if (holder is not null && holder != forModelId)
        {
            throw RegistryException.AlreadyExists($"Alias '{alias}' is already used by model '{holder}' of owner '{owner}'.");
        }
    }
}

internal enum UniqueViolation
{
    ModelId,
    Alias,
}
