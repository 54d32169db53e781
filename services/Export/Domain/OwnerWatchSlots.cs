using System.Collections.Concurrent;

namespace Microservices.Export.Domain;

/// <summary>
/// Open WatchExport/WatchImport streams per owner on this replica. Each polls the job store a few
/// times a second for as long as it is open, so one owner's thousand watches would cost the store
/// far more than they cost the caller.
/// </summary>
internal sealed class OwnerWatchSlots(int maxPerOwner)
{
    private readonly ConcurrentDictionary<string, int> _open = new(StringComparer.Ordinal);

    /// <summary>A slot for one watch, released on dispose; RESOURCE_EXHAUSTED past the limit.</summary>
    public IDisposable Acquire(string owner)
    {
        var granted = false;
        _open.AddOrUpdate(owner, _ => { granted = true; return 1; }, (_, open) =>
        {
            granted = open < maxPerOwner;
            return granted ? open + 1 : open;
        });
        return granted
            ? new Slot(this, owner)
            : throw new ExportException(ExportErrorKind.ResourceExhausted, $"This owner already has {maxPerOwner} open watches on this replica (Export:MaxWatchesPerOwner); end one first.");
    }

    private void Release(string owner)
    {
        // Removing the entry at zero keeps the dictionary as small as the set of owners watching now.
        if (_open.AddOrUpdate(owner, 0, (_, open) => open - 1) <= 0)
        {
            _open.TryRemove(new KeyValuePair<string, int>(owner, 0));
        }
    }

    private sealed class Slot(OwnerWatchSlots slots, string owner) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                slots.Release(owner);
            }
        }
    }
}
