using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Microservices.Redis.Connection;
using Microservices.Redis.Protocol;
using Microservices.Redis.Subscriptions;

namespace Microservices.Redis;

/// <summary>Typed commands over the multiplexed connection; see <see cref="IRedisClient"/>.</summary>
internal sealed class RedisClient : IRedisClient
{
    private static readonly ReadOnlyMemory<byte> Get = CommandArgs.Name("GET");
    private static readonly ReadOnlyMemory<byte> Set = CommandArgs.Name("SET");

    private readonly RedisOptions _options;
    private readonly MultiplexedConnection _interactive;
    private readonly SubscriptionRegistry _subscriptions;
    private readonly ConcurrentDictionary<string, byte[]> _scriptHashes = new(StringComparer.Ordinal);

    public RedisClient(RedisOptions options)
    {
        if (options.Endpoints.Count == 0)
        {
            throw new ArgumentException("RedisOptions names no endpoint.", nameof(options));
        }

        _options = options;
        _interactive = new MultiplexedConnection(options, "interactive", (socket, ct) => HandshakeAsync(socket, options.Protocol == 3, ct), pushHandler: null);
        _interactive.StateChanged += (connected, error) =>
            ConnectionStateChanged?.Invoke(this, new RedisConnectionStateChangedEventArgs(RedisConnectionRole.Interactive, connected, error));
        _subscriptions = new SubscriptionRegistry(registry =>
        {
            var connection = new MultiplexedConnection(
                options,
                "subscriber",
                async (socket, ct) =>
                {
                    await HandshakeAsync(socket, resp3: false, ct).ConfigureAwait(false);
                    await registry.ResubscribeAsync(socket, ct).ConfigureAwait(false);
                },
                registry.OnPush);
            connection.StateChanged += (connected, error) =>
                ConnectionStateChanged?.Invoke(this, new RedisConnectionStateChangedEventArgs(RedisConnectionRole.Subscriber, connected, error));
            return connection;
        });
        _interactive.Start();
    }

    public event EventHandler<RedisConnectionStateChangedEventArgs>? ConnectionStateChanged;

    public bool IsConnected => _interactive.IsConnected;

    internal Task FirstConnectAttempt => _interactive.FirstAttempt;

    internal string? LastConnectionError => _interactive.LastError;

    public async Task<RedisReply> ExecuteAsync(string command, IReadOnlyList<object>? args = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(command);
        var encoded = new ReadOnlyMemory<byte>[1 + (args?.Count ?? 0)];
        encoded[0] = CommandArgs.Name(command);
        for (var i = 1; i < encoded.Length; i++)
        {
            encoded[i] = CommandArgs.Encode(args![i - 1]);
        }

        return await SendAsync(encoded, cancellationToken).ConfigureAwait(false);
    }

    public async Task<TimeSpan> PingAsync(CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        await SendAsync([CommandArgs.Name("PING")], cancellationToken).ConfigureAwait(false);
        return Stopwatch.GetElapsedTime(started);
    }

    // Hot paths return the connection's own task: no extra async state machine per call.
    public Task<byte[]?> GetAsync(RedisKey key, CancellationToken cancellationToken = default) =>
        _interactive.ExecuteAsync([Get, key.Bytes], ReplyProjections.NullableBytes, cancellationToken);

    public Task<bool> SetAsync(RedisKey key, ReadOnlyMemory<byte> value, TimeSpan? expiry = null, SetCondition condition = SetCondition.Always, CancellationToken cancellationToken = default)
    {
        if (expiry is null && condition == SetCondition.Always)
        {
            return _interactive.ExecuteAsync([Set, key.Bytes, value], ReplyProjections.NotNull, cancellationToken);
        }

        var args = new List<ReadOnlyMemory<byte>>(6) { Set, key.Bytes, value };
        if (expiry is { } ttl)
        {
            if (ttl <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(expiry), "Expiry must be positive.");
            }

            var wholeSeconds = ttl.Ticks % TimeSpan.TicksPerSecond == 0;
            args.Add(CommandArgs.Name(wholeSeconds ? "EX" : "PX"));
            args.Add(CommandArgs.Number(wholeSeconds ? (long)ttl.TotalSeconds : Math.Max(1, (long)ttl.TotalMilliseconds)));
        }

        if (condition != SetCondition.Always)
        {
            args.Add(CommandArgs.Name(condition == SetCondition.IfNotExists ? "NX" : "XX"));
        }

        return _interactive.ExecuteAsync([.. args], ReplyProjections.NotNull, cancellationToken);
    }

    public Task<long> DeleteAsync(IReadOnlyList<RedisKey> keys, CancellationToken cancellationToken = default) =>
        IntegerAsync(WithKeys("DEL", keys), cancellationToken);

    public Task<long> UnlinkAsync(IReadOnlyList<RedisKey> keys, CancellationToken cancellationToken = default) =>
        IntegerAsync(WithKeys("UNLINK", keys), cancellationToken);

    public async Task<byte[]?[]> GetManyAsync(IReadOnlyList<RedisKey> keys, CancellationToken cancellationToken = default)
    {
        var reply = await SendAsync(WithKeys("MGET", keys), cancellationToken).ConfigureAwait(false);
        return [.. reply.Elements!.Select(e => e.IsNull ? null : e.Bytes)];
    }

    public async Task SetManyAsync(IReadOnlyList<KeyValuePair<RedisKey, ReadOnlyMemory<byte>>> pairs, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfZero(pairs.Count);
        var args = new ReadOnlyMemory<byte>[1 + (2 * pairs.Count)];
        args[0] = CommandArgs.Name("MSET");
        for (var i = 0; i < pairs.Count; i++)
        {
            args[1 + (2 * i)] = pairs[i].Key.Bytes;
            args[2 + (2 * i)] = pairs[i].Value;
        }

        await SendAsync(args, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> ExpireAsync(RedisKey key, TimeSpan expiry, CancellationToken cancellationToken = default)
    {
        var wholeSeconds = expiry.Ticks % TimeSpan.TicksPerSecond == 0;
        var reply = await SendAsync(
            [CommandArgs.Name(wholeSeconds ? "EXPIRE" : "PEXPIRE"), key.Bytes, CommandArgs.Number(wholeSeconds ? (long)expiry.TotalSeconds : (long)expiry.TotalMilliseconds)],
            cancellationToken).ConfigureAwait(false);
        return reply.Integer == 1;
    }

    public Task<long> TimeToLiveAsync(RedisKey key, CancellationToken cancellationToken = default) =>
        IntegerAsync([CommandArgs.Name("TTL"), key.Bytes], cancellationToken);

    public Task<long> IncrementAsync(RedisKey key, long by = 1, CancellationToken cancellationToken = default) =>
        IntegerAsync([CommandArgs.Name("INCRBY"), key.Bytes, CommandArgs.Number(by)], cancellationToken);

    public Task<long> HashSetAsync(RedisKey key, IReadOnlyList<KeyValuePair<RedisKey, ReadOnlyMemory<byte>>> fields, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfZero(fields.Count);
        var args = new ReadOnlyMemory<byte>[2 + (2 * fields.Count)];
        args[0] = CommandArgs.Name("HSET");
        args[1] = key.Bytes;
        for (var i = 0; i < fields.Count; i++)
        {
            args[2 + (2 * i)] = fields[i].Key.Bytes;
            args[3 + (2 * i)] = fields[i].Value;
        }

        return IntegerAsync(args, cancellationToken);
    }

    public Task<byte[]?> HashGetAsync(RedisKey key, RedisKey field, CancellationToken cancellationToken = default) =>
        _interactive.ExecuteAsync([CommandArgs.Name("HGET"), key.Bytes, field.Bytes], ReplyProjections.NullableBytes, cancellationToken);

    public async Task<IReadOnlyList<KeyValuePair<byte[], byte[]>>> HashGetAllAsync(RedisKey key, CancellationToken cancellationToken = default)
    {
        var reply = await SendAsync([CommandArgs.Name("HGETALL"), key.Bytes], cancellationToken).ConfigureAwait(false);
        var e = reply.Elements!;
        var result = new KeyValuePair<byte[], byte[]>[e.Count / 2];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = new(e[2 * i].Bytes!, e[(2 * i) + 1].Bytes!);
        }

        return result;
    }

    public Task<long> HashDeleteAsync(RedisKey key, IReadOnlyList<RedisKey> fields, CancellationToken cancellationToken = default)
    {
        var args = new ReadOnlyMemory<byte>[2 + fields.Count];
        args[0] = CommandArgs.Name("HDEL");
        args[1] = key.Bytes;
        for (var i = 0; i < fields.Count; i++)
        {
            args[2 + i] = fields[i].Bytes;
        }

        return IntegerAsync(args, cancellationToken);
    }

    public async Task<RedisReply> EvalAsync(string script, IReadOnlyList<RedisKey> keys, IReadOnlyList<object>? args = null, CancellationToken cancellationToken = default)
    {
        var sha = _scriptHashes.GetOrAdd(script, static s => Encoding.ASCII.GetBytes(Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(s)))));
        // numkeys, keys..., args... — shared by EVALSHA and the EVAL fallback.
        var tail = new ReadOnlyMemory<byte>[1 + keys.Count + (args?.Count ?? 0)];
        tail[0] = CommandArgs.Number(keys.Count);
        for (var i = 0; i < keys.Count; i++)
        {
            tail[1 + i] = keys[i].Bytes;
        }

        for (var i = 0; i < (args?.Count ?? 0); i++)
        {
            tail[1 + keys.Count + i] = CommandArgs.Encode(args![i]);
        }

        ReadOnlyMemory<byte>[] evalSha = [CommandArgs.Name("EVALSHA"), sha, .. tail];
        try
        {
            return await _interactive.ExecuteAsync(evalSha, cancellationToken).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Prefix == "NOSCRIPT")
        {
            // The server lost its script cache (restart, SCRIPT FLUSH, failover): EVAL reloads it.
            return await _interactive.ExecuteAsync([CommandArgs.Name("EVAL"), Encoding.UTF8.GetBytes(script), .. tail], cancellationToken).ConfigureAwait(false);
        }
    }

    public Task<long> PublishAsync(RedisKey channel, ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default) =>
        IntegerAsync([CommandArgs.Name("PUBLISH"), channel.Bytes, message], cancellationToken);

    public Task<IAsyncDisposable> SubscribeAsync(string channel, Action<RedisMessage> handler, CancellationToken cancellationToken = default) =>
        _subscriptions.AddAsync(channel, pattern: false, handler, cancellationToken);

    public Task<IAsyncDisposable> PatternSubscribeAsync(string pattern, Action<RedisMessage> handler, CancellationToken cancellationToken = default) =>
        _subscriptions.AddAsync(pattern, pattern: true, handler, cancellationToken);

    public async IAsyncEnumerable<byte[]> ScanAsync(string? pattern = null, int pageSize = 250, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ReadOnlyMemory<byte> cursor = "0"u8.ToArray();
        do
        {
            var args = new List<ReadOnlyMemory<byte>> { CommandArgs.Name("SCAN"), cursor, CommandArgs.Name("COUNT"), CommandArgs.Number(pageSize) };
            if (pattern is not null)
            {
                args.Add(CommandArgs.Name("MATCH"));
                args.Add(Encoding.UTF8.GetBytes(pattern));
            }

            var reply = await SendAsync([.. args], cancellationToken).ConfigureAwait(false);
            cursor = reply.Elements![0].Bytes!;
            foreach (var key in reply.Elements[1].Elements!)
            {
                yield return key.Bytes!;
            }
        }
        while (!cursor.Span.SequenceEqual("0"u8));
    }

    public async ValueTask DisposeAsync()
    {
        await _subscriptions.DisposeAsync().ConfigureAwait(false);
        await _interactive.DisposeAsync().ConfigureAwait(false);
    }

    internal Task<RedisReply> SendAsync(ReadOnlyMemory<byte>[] args, CancellationToken cancellationToken) =>
        _interactive.ExecuteAsync(args, cancellationToken);

    private Task<long> IntegerAsync(ReadOnlyMemory<byte>[] args, CancellationToken cancellationToken) =>
        _interactive.ExecuteAsync(args, ReplyProjections.Integer, cancellationToken);

    private static ReadOnlyMemory<byte>[] WithKeys(string command, IReadOnlyList<RedisKey> keys)
    {
        ArgumentOutOfRangeException.ThrowIfZero(keys.Count);
        var args = new ReadOnlyMemory<byte>[1 + keys.Count];
        args[0] = CommandArgs.Name(command);
        for (var i = 0; i < keys.Count; i++)
        {
            args[1 + i] = keys[i].Bytes;
        }

        return args;
    }

    private async Task HandshakeAsync(PhysicalConnection connection, bool resp3, CancellationToken cancellationToken)
    {
        if (resp3)
        {
            var hello = new List<ReadOnlyMemory<byte>> { CommandArgs.Name("HELLO"), CommandArgs.Number(3) };
            if (_options.Password is not null)
            {
                hello.AddRange([CommandArgs.Name("AUTH"), Encoding.UTF8.GetBytes(_options.User ?? "default"), Encoding.UTF8.GetBytes(_options.Password)]);
            }

            var reply = await connection.ExecuteDirectAsync([.. hello], cancellationToken).ConfigureAwait(false);
            if (reply.IsError)
            {
                throw new RedisServerException($"RESP3 handshake (HELLO 3) failed on {connection.Endpoint}: {reply.AsString()} (RESP3 needs Redis 6 or later; use protocol=resp2 otherwise).");
            }
        }
        else if (_options.Password is not null)
        {
            var auth = await connection.ExecuteDirectAsync(
                _options.User is null
                    ? [CommandArgs.Name("AUTH"), Encoding.UTF8.GetBytes(_options.Password)]
                    : [CommandArgs.Name("AUTH"), Encoding.UTF8.GetBytes(_options.User), Encoding.UTF8.GetBytes(_options.Password)],
                cancellationToken).ConfigureAwait(false);
            if (auth.IsError)
            {
                throw new RedisServerException($"Redis authentication failed for {connection.Endpoint}: {auth.AsString()}");
            }
        }

        if (_options.ClientName is not null)
        {
            // Older servers or restricted ACLs may refuse it; the name is only a diagnostic.
            await connection.ExecuteDirectAsync([CommandArgs.Name("CLIENT"), CommandArgs.Name("SETNAME"), Encoding.UTF8.GetBytes(_options.ClientName)], cancellationToken).ConfigureAwait(false);
        }

        if (_options.DefaultDatabase != 0)
        {
            var select = await connection.ExecuteDirectAsync([CommandArgs.Name("SELECT"), CommandArgs.Number(_options.DefaultDatabase)], cancellationToken).ConfigureAwait(false);
            if (select.IsError)
            {
                throw new RedisServerException($"SELECT {_options.DefaultDatabase} failed on {connection.Endpoint}: {select.AsString()}");
            }
        }
    }
}
