using System.Text;
using System.Threading.Channels;
using Microservices.Redis.Connection;
using Microservices.Redis.Protocol;

namespace Microservices.Redis.Subscriptions;

/// <summary>
/// Owns the subscriber connection: which channels and patterns have handlers, (re)subscribing them
/// in every handshake, and dispatching deliveries to handlers on one background task in order.
/// </summary>
internal sealed class SubscriptionRegistry : IAsyncDisposable
{
    private readonly Dictionary<string, List<Handler>> _channels = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Handler>> _patterns = new(StringComparer.Ordinal);
    private readonly Channel<RedisMessage> _deliveries = Channel.CreateUnbounded<RedisMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _changes = new(1, 1);
    private readonly Func<SubscriptionRegistry, MultiplexedConnection> _connect;
    private readonly Task _dispatcher;
    private MultiplexedConnection? _connection;

    public SubscriptionRegistry(Func<SubscriptionRegistry, MultiplexedConnection> connect)
    {
        _connect = connect;
        _dispatcher = Task.Run(DispatchAsync);
    }

    public bool IsConnected => _connection?.IsConnected ?? false;

    public async Task<IAsyncDisposable> AddAsync(string name, bool pattern, Action<RedisMessage> callback, CancellationToken cancellationToken)
    {
        var handler = new Handler(this, name, pattern, callback);
        await _changes.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var connection = _connection ??= StartConnection();
            bool first;
            lock (_channels)
            {
                var map = pattern ? _patterns : _channels;
                if (!map.TryGetValue(name, out var list))
                {
                    map[name] = list = [];
                }

                first = list.Count == 0;
                list.Add(handler);
            }

            if (first && connection.IsConnected)
            {
                try
                {
                    await connection.ExecuteAsync([CommandArgs.Name(pattern ? "PSUBSCRIBE" : "SUBSCRIBE"), Encoding.UTF8.GetBytes(name)], cancellationToken).ConfigureAwait(false);
                }
                catch (RedisException)
                {
                    // Unsure whether the server registered it: a fresh socket resubscribes everything.
                    connection.ForceReconnect();
                }
            }

            // When not connected, the next handshake subscribes it.
            return handler;
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>Runs on every new subscriber socket, before deliveries start.</summary>
    public async Task ResubscribeAsync(PhysicalConnection connection, CancellationToken cancellationToken)
    {
        List<(string Name, bool Pattern)> all;
        lock (_channels)
        {
            all = [.. _channels.Keys.Select(k => (k, false)), .. _patterns.Keys.Select(k => (k, true))];
        }

        foreach (var (name, pattern) in all)
        {
            var reply = await connection.ExecuteDirectAsync([CommandArgs.Name(pattern ? "PSUBSCRIBE" : "SUBSCRIBE"), Encoding.UTF8.GetBytes(name)], cancellationToken).ConfigureAwait(false);
            if (reply.IsError)
            {
                throw new RedisServerException(reply.AsString()!);
            }
        }
    }

    /// <summary>Called by the read loop; must not block it.</summary>
    public void OnPush(RedisReply push)
    {
        var e = push.Elements!;
        var isPattern = e.Count == 4;
        var message = isPattern
            ? new RedisMessage(e[2].AsString()!, e[1].AsString(), e[3].Bytes ?? [])
            : new RedisMessage(e[1].AsString()!, null, e[2].Bytes ?? []);
        _deliveries.Writer.TryWrite(message);
    }

    public async ValueTask DisposeAsync()
    {
        _deliveries.Writer.TryComplete();
        if (_connection is not null)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }

        await _dispatcher.ConfigureAwait(false);
        _changes.Dispose();
    }

    private MultiplexedConnection StartConnection()
    {
        var connection = _connect(this);
        connection.Start();
        return connection;
    }

    private async Task DispatchAsync()
    {
        await foreach (var message in _deliveries.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            Handler[] targets;
            lock (_channels)
            {
                var list = message.Pattern is null ? _channels.GetValueOrDefault(message.Channel) : _patterns.GetValueOrDefault(message.Pattern);
                targets = list is null ? [] : [.. list];
            }

            foreach (var target in targets)
            {
                try
                {
                    target.Callback(message);
                }
#pragma warning disable CA1031 // A faulty handler must not stop deliveries to the others.
                catch (Exception)
#pragma warning restore CA1031
                {
                }
            }
        }
    }

    private async ValueTask RemoveAsync(Handler handler)
    {
        await _changes.WaitAsync().ConfigureAwait(false);
        try
        {
            bool last;
            lock (_channels)
            {
                var map = handler.Pattern ? _patterns : _channels;
                if (!map.TryGetValue(handler.Name, out var list) || !list.Remove(handler))
                {
                    return;
                }

                last = list.Count == 0;
                if (last)
                {
                    map.Remove(handler.Name);
                }
            }

            if (last && _connection is { IsConnected: true } connection)
            {
                try
                {
                    await connection.ExecuteAsync([CommandArgs.Name(handler.Pattern ? "PUNSUBSCRIBE" : "UNSUBSCRIBE"), Encoding.UTF8.GetBytes(handler.Name)], CancellationToken.None).ConfigureAwait(false);
                }
                catch (RedisException)
                {
                    connection.ForceReconnect();
                }
            }
        }
        finally
        {
            _changes.Release();
        }
    }

    private sealed class Handler(SubscriptionRegistry owner, string name, bool pattern, Action<RedisMessage> callback) : IAsyncDisposable
    {
        private int _disposed;

        public string Name { get; } = name;

        public bool Pattern { get; } = pattern;

        public Action<RedisMessage> Callback { get; } = callback;

        public ValueTask DisposeAsync() =>
            Interlocked.Exchange(ref _disposed, 1) == 0 ? owner.RemoveAsync(this) : ValueTask.CompletedTask;
    }
}
