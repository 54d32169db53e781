using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microservices.Registry.Models;

namespace Microservices.Registry.Changes;

/// <summary>
/// Delivers every committed change to the watchers of its owner, in commit order, within this
/// process (Watch's source). Changes committed by other replicas arrive through
/// <see cref="PostgresChangeRelay"/> and <see cref="PublishRelayed"/>.
/// Publishing never blocks a write: each watcher has a buffer bounded in changes and in bytes, and
/// a watcher that lets it fill is ended with Aborted rather than silently missing changes.
/// </summary>
internal sealed class ModelChangeFeed
{
    public const int DefaultWatcherBuffer = 4096;
    public const int DefaultMaxWatchesPerOwner = 16;
    public const string MaxWatchesPerOwnerKey = "Registry:Limits:MaxWatchesPerOwner";

    /// <summary>A model may be ~25 KB (ModelRules' limits), so 4096 of them could be 100 MB per watcher; bytes bound it first.</summary>
    public const long DefaultMaxWatchBufferBytes = 4L << 20;
    public const string MaxWatchBufferBytesKey = "Registry:Limits:MaxWatchBufferBytes";

    private readonly ConcurrentDictionary<long, ModelWatch> _watchers = new();
    private readonly Lock _publishLock = new();
    private readonly int _watcherBuffer;
    private readonly int _maxWatchesPerOwner;
    private readonly long _maxBufferBytes;
    private long _nextWatcherId;
    private long _sequence;

    public ModelChangeFeed(int watcherBuffer = DefaultWatcherBuffer, int maxWatchesPerOwner = DefaultMaxWatchesPerOwner, long maxBufferBytes = DefaultMaxWatchBufferBytes)
    {
        _watcherBuffer = watcherBuffer;
        _maxWatchesPerOwner = maxWatchesPerOwner;
        _maxBufferBytes = maxBufferBytes;
    }

    /// <summary>Raised after each committed write, on the writer's thread; keep handlers short.</summary>
    public event Action<ModelChange>? Committed;

    /// <summary>Starts watching now: every change committed after this call is delivered.</summary>
    public ModelWatch Watch(string owner)
    {
        owner = ModelRules.Owner(owner);
        var id = Interlocked.Increment(ref _nextWatcherId);
        var channel = Channel.CreateBounded<ModelChange>(new BoundedChannelOptions(_watcherBuffer)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        var watch = new ModelWatch(owner, channel, () => _watchers.TryRemove(id, out _));

        // Each watch holds a buffer of up to _watcherBuffer changes: one owner's many watches must not hold the memory of all.
        lock (_publishLock)
        {
            if (_watchers.Values.Count(w => w.Owner == owner) >= _maxWatchesPerOwner)
            {
                throw RegistryException.ResourceExhausted(
                    $"owner '{owner}' already has {_maxWatchesPerOwner} open watches ({MaxWatchesPerOwnerKey}); end one first");
            }

            _watchers[id] = watch;
        }

        return watch;
    }

    /// <summary>A change committed here: delivered to local watchers and raised as <see cref="Committed"/>.</summary>
    public void Publish(ModelChangeKind kind, RegisteredModel model, DateTimeOffset committedAt)
    {
        // Delivered first and unconditionally: Committed?.Invoke(Deliver(...)) would skip delivery with no subscriber.
        var change = Deliver(kind, model, committedAt);
        Committed?.Invoke(change);
    }

    /// <summary>A change another replica committed: delivered to local watchers only (it is not relayed back).</summary>
    public void PublishRelayed(ModelChangeKind kind, RegisteredModel model, DateTimeOffset committedAt) =>
        Deliver(kind, model, committedAt);

    private ModelChange Deliver(ModelChangeKind kind, RegisteredModel model, DateTimeOffset committedAt)
    {
        ModelChange change;

        // One lock keeps sequence order and delivery order the same for every watcher.
        lock (_publishLock)
        {
            change = new ModelChange(++_sequence, kind, model, committedAt);
            var size = ModelWatch.ApproximateBytes(model);
            foreach (var (id, watch) in _watchers)
            {
                if (watch.Owner != model.Owner)
                {
                    continue;
                }

                if (!watch.TryBuffer(change, size, _maxBufferBytes))
                {
                    watch.Writer.TryComplete(new RegistryException(
                        RegistryErrorKind.Aborted,
                        $"The watch fell more than {_watcherBuffer} changes or {_maxBufferBytes} bytes ({MaxWatchBufferBytesKey}) behind and was ended; List again and start a new Watch."));
                    _watchers.TryRemove(id, out _);
                }
            }
        }

        return change;
    }
}

/// <summary>One watcher's view of the feed; dispose to stop watching.</summary>
internal sealed class ModelWatch : IDisposable
{
    private readonly Channel<ModelChange> _channel;
    private readonly Action _unsubscribe;
    private long _bufferedBytes;

    internal ModelWatch(string owner, Channel<ModelChange> channel, Action unsubscribe)
    {
        Owner = owner;
        _channel = channel;
        _unsubscribe = unsubscribe;
    }

    public string Owner { get; }

    /// <summary>Completes with a RegistryException (Aborted) if the watcher fell behind.</summary>
    public ChannelReader<ModelChange> Changes => _channel.Reader;

    internal ChannelWriter<ModelChange> Writer => _channel.Writer;

    /// <summary>Buffers the change (of <paramref name="size"/>, ApproximateBytes) unless that would take the buffer past <paramref name="maxBytes"/> (or its count).</summary>
    internal bool TryBuffer(ModelChange change, long size, long maxBytes)
    {
        if (Interlocked.Read(ref _bufferedBytes) + size > maxBytes)
        {
            return false;
        }

        Interlocked.Add(ref _bufferedBytes, size);
        if (_channel.Writer.TryWrite(change))
        {
            return true;
        }

        Interlocked.Add(ref _bufferedBytes, -size);
        return false;
    }

    /// <summary>What a buffered change holds: its strings (UTF-16) plus a fixed overhead for the records.</summary>
    internal static long ApproximateBytes(RegisteredModel model)
    {
        long chars = model.Owner.Length + model.ModelId.Length + model.AuthorRepo.Length + model.Branch.Length + model.ConfigPath.Length + (model.Alias?.Length ?? 0);
        foreach (var (key, value) in model.Tags)
        {
            chars += key.Length + value.Length;
        }

        return 256 + (2 * chars);
    }

    /// <summary>
    /// The changes as they commit, until disposed or cancelled; throws the Aborted
    /// RegistryException itself (not a channel exception) when the watcher fell behind.
    /// </summary>
    public async IAsyncEnumerable<ModelChange> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (true)
        {
            bool more;
            try
            {
                more = await _channel.Reader.WaitToReadAsync(cancellationToken);
            }
            catch (ChannelClosedException e) when (e.InnerException is RegistryException registry)
            {
                throw registry;
            }

            if (!more)
            {
                yield break;
            }

            while (_channel.Reader.TryRead(out var change))
            {
                Interlocked.Add(ref _bufferedBytes, -ApproximateBytes(change.Model));
                yield return change;
            }
        }
    }

    public void Dispose()
    {
        _unsubscribe();
        _channel.Writer.TryComplete();
    }
}
