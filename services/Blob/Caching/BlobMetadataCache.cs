using System.Text.Json;
using Microservices.Blob.Index;
using Microservices.Blob.Storage;
using Microservices.Caching;

namespace Microservices.Blob.Caching;

/// <summary>
/// Blob metadata (what Stat answers) in the shared two-level cache (in-process L1, Redis L2), so
/// Stat and the gateway seldom touch the index. Every change to a blob's metadata invalidates it.
/// Keys carry a hash of the owner, never the owner string itself. Off (<paramref name="enabled"/>
/// false), every read goes to the index: for a shared index without Redis, where a replica's
/// in-process copy would never hear of another replica's changes.
/// </summary>
internal sealed class BlobMetadataCache(ITwoLevelCache cache, bool enabled = true)
{
    private static readonly CacheEntryOptions Lifetime = new(TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(30));

    public async Task<BlobRecord?> GetAsync(string owner, string hash, Func<CancellationToken, Task<BlobRecord?>> load, CancellationToken cancellationToken)
    {
        if (!enabled)
        {
            return await load(cancellationToken).ConfigureAwait(false);
        }

        var bytes = await cache.GetOrCreateAsync(Key(owner, hash), async token =>
        {
            var record = await load(token).ConfigureAwait(false);
            return record is null ? null : JsonSerializer.SerializeToUtf8Bytes(record);
        }, Lifetime, cancellationToken).ConfigureAwait(false);
        return bytes is null ? null : JsonSerializer.Deserialize<BlobRecord>(bytes);
    }

    public Task InvalidateAsync(string owner, string hash, CancellationToken cancellationToken) =>
        enabled ? cache.RemoveAsync(Key(owner, hash), cancellationToken) : Task.CompletedTask;

    private static string Key(string owner, string hash) => $"meta:{StorageKey.OwnerTag(owner)}:{hash}";
}
