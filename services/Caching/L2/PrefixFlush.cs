using System.Text.RegularExpressions;
using StackExchange.Redis;

namespace Microservices.Caching.L2;

/// <summary>
/// Unlinks every cache entry under a prefix on one server, leaving the cache's own keys (fences,
/// the flush token, locks, rate-limit windows) alone. SCAN walks the whole database, so this is
/// for the rare recovery after too many failed invalidations, never for a lookup.
/// </summary>
internal static partial class PrefixFlush
{
    private const int Batch = 500;

    public static async Task UnlinkEntriesAsync(IServer server, IDatabase database, string keyPrefix, CancellationToken cancellationToken)
    {
        var reserved = System.Text.Encoding.UTF8.GetBytes(keyPrefix + CacheKeyspace.Reserved);
        var keys = new List<object>(Batch);
        await foreach (var key in server.KeysAsync(database.Database, GlobSpecial().Replace(keyPrefix, @"\$0") + "*", Batch).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (!((byte[]?)key ?? []).AsSpan().StartsWith(reserved))
            {
                keys.Add(key);
            }

            if (keys.Count == Batch)
            {
                await UnlinkAsync(database, keys, cancellationToken).ConfigureAwait(false);
            }
        }

        if (keys.Count > 0)
        {
            await UnlinkAsync(database, keys, cancellationToken).ConfigureAwait(false);
        }
    }

    // UNLINK frees the values off Redis's main thread; StackExchange.Redis has no typed call for it.
    private static async Task UnlinkAsync(IDatabase database, List<object> keys, CancellationToken cancellationToken)
    {
        await database.ExecuteAsync("UNLINK", [.. keys]).BoundAsync(cancellationToken).ConfigureAwait(false);
        keys.Clear();
    }

    [GeneratedRegex(@"[\\*?\[\]]")]
    private static partial Regex GlobSpecial();
}
