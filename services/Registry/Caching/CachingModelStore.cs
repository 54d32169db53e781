using System.Text;
using System.Text.Json;
using Microservices.Caching;
using Microservices.Registry.Import;
using Microservices.Registry.Models;
using Microservices.Registry.Repositories;

namespace Microservices.Registry.Caching;

/// <summary>
/// Puts the shared two-level cache (L1 memory, Redis L2 with pub/sub invalidation) in front of
/// the store's two point reads, Get by id and alias resolution, and invalidates after every write.
/// <list type="bullet">
/// <item>id key → the model (JSON); alias key → the model id only, so an alias entry can't carry a
/// stale model: the id entry is always checked, and an alias entry whose model no longer holds
/// that alias is dropped and the store asked instead. That is why a write never needs to know a
/// model's previous alias to invalidate it.</item>
/// <item>Writes invalidate after the store has committed (and also when it threw: a commit may
/// have happened before a cancellation). A read on another instance that loaded the old row just
/// before the commit cannot put it back afterwards: the cache's write fence refuses that fill.</item>
/// </list>
/// Lists, imports and operator calls go straight to the store.
/// </summary>
internal sealed class CachingModelStore : IModelStore
{
    private readonly IModelStore _inner;
    private readonly ITwoLevelCache _cache;
    private readonly CacheEntryOptions _entry;

    public CachingModelStore(IModelStore inner, ITwoLevelCache cache, RegistryCacheOptions options)
    {
        _inner = inner;
        _cache = cache;
        _entry = new CacheEntryOptions(options.Expiry);
    }

    public string Kind => _inner.Kind;

    public IModelStore Inner => _inner;

    public Task InitializeAsync(CancellationToken cancellationToken) => _inner.InitializeAsync(cancellationToken);

    public async Task<RegisteredModel?> FindByIdAsync(string owner, string modelId, CancellationToken cancellationToken) =>
        await _cache.GetOrCreateAsync(
            IdKey(owner, modelId),
            async ct => await _inner.FindByIdAsync(owner, modelId, ct).ConfigureAwait(false) is { } model
                ? JsonSerializer.SerializeToUtf8Bytes(model, RegistryCacheJson.Default.RegisteredModel)
                : null,
            DecodeModel,
            _entry,
            cancellationToken).ConfigureAwait(false);

    public async Task<RegisteredModel?> FindByAliasAsync(string owner, string alias, CancellationToken cancellationToken)
    {
        var key = AliasKey(owner, alias);
        var id = await _cache.GetOrCreateAsync(
            key,
            async ct => await _inner.FindByAliasAsync(owner, alias, ct).ConfigureAwait(false) is { } model
                ? Encoding.UTF8.GetBytes(model.ModelId)
                : null,
            Encoding.UTF8.GetString,
            _entry,
            cancellationToken).ConfigureAwait(false);
        if (id is null)
        {
            return null;
        }

        var found = await FindByIdAsync(owner, id, cancellationToken).ConfigureAwait(false);
        if (found is not null && string.Equals(found.Alias, alias, StringComparison.Ordinal))
        {
            return found;
        }

        // The alias moved or was removed since the entry was cached: the store decides.
        await _cache.RemoveAsync(key, cancellationToken).ConfigureAwait(false);
        return await _inner.FindByAliasAsync(owner, alias, cancellationToken).ConfigureAwait(false);
    }

    public Task<ModelPage> ListAsync(string owner, ModelQuery query, CancellationToken cancellationToken) =>
        _inner.ListAsync(owner, query, cancellationToken);

    public Task<RegisteredModel> InsertAsync(NewModel model, IEnumerable<string> aliasCandidates, DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteAsync(model.Owner, model.ModelId, ct => _inner.InsertAsync(model, aliasCandidates, now, ct), cancellationToken);

    public Task<RegisteredModel> ChangeAsync(string owner, string modelId, long? expectedVersion, Func<RegisteredModel, RegisteredModel> change, DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteAsync(owner, modelId, ct => _inner.ChangeAsync(owner, modelId, expectedVersion, change, now, ct), cancellationToken);

    public Task<RegisteredModel> DeleteAsync(string owner, string modelId, long? expectedVersion, Action<RegisteredModel> guard, CancellationToken cancellationToken) =>
        WriteAsync(owner, modelId, ct => _inner.DeleteAsync(owner, modelId, expectedVersion, guard, ct), cancellationToken);

    // Imports only add models that did not exist (and absent models are never cached: the cache
    // keeps no null), and an alias entry is checked against its model on every read: nothing
    // cached can be stale, so neither import invalidates (100,000 Redis round trips for nothing).
    public Task<StoreImportResult> ImportAsync(string owner, IReadOnlyList<ImportRow> rows, bool allOrNothing, DateTimeOffset now, CancellationToken cancellationToken) =>
        _inner.ImportAsync(owner, rows, allOrNothing, now, cancellationToken);

    public Task<StoreModelImportResult> ImportModelsAsync(
        string owner, IReadOnlyList<ModelToImport> models, Func<string, IEnumerable<string>> aliasCandidates, bool dryRun, DateTimeOffset now, CancellationToken cancellationToken) =>
        _inner.ImportModelsAsync(owner, models, aliasCandidates, dryRun, now, cancellationToken);

    public Task<BackupResult> BackupAsync(CancellationToken cancellationToken) =>
        _inner.BackupAsync(cancellationToken);

    public Task<IntegrityReport> CheckIntegrityAsync(CancellationToken cancellationToken) =>
        _inner.CheckIntegrityAsync(cancellationToken);

    public ValueTask DisposeAsync() => _inner.DisposeAsync();

    // RegisteredModel is an immutable record, so an L1 hit can hand every caller the same decoded instance.
    private static RegisteredModel DecodeModel(byte[] json) =>
        JsonSerializer.Deserialize(json, RegistryCacheJson.Default.RegisteredModel)
        ?? throw new InvalidDataException("a cached model decoded to null");

    internal static string IdKey(string owner, string modelId) => $"id:{owner.Length}:{owner}:{modelId}";

    internal static string AliasKey(string owner, string alias) => $"alias:{owner.Length}:{owner}:{alias}";

    private async Task<RegisteredModel> WriteAsync(string owner, string modelId, Func<CancellationToken, Task<RegisteredModel>> write, CancellationToken cancellationToken)
    {
        RegisteredModel? written = null;
        try
        {
            written = await write(cancellationToken).ConfigureAwait(false);
            return written;
        }
        finally
        {
            // Not the caller's token: a write that committed must invalidate even if its caller left.
            var keys = written?.Alias is { } alias ? new[] { IdKey(owner, modelId), AliasKey(owner, alias) } : [IdKey(owner, modelId)];
            foreach (var key in keys)
            {
                await _cache.RemoveAsync(key, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }
}
