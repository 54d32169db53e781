using System.Diagnostics;
using System.Threading.Channels;
using Microservices.Redis.Protocol;

namespace Microservices.Redis.Connection;

/// <summary>
/// One logical connection shared by every caller: commands from all of them go through a single
/// outbox onto whichever socket is current. A background loop connects, runs the handshake, and on
/// failure reconnects with backoff; commands queued meanwhile wait (up to their timeout) and are
/// written once a socket is back.
/// </summary>
internal sealed class MultiplexedConnection : IAsyncDisposable
{
    private readonly Channel<IPendingCommand> _outbox = Channel.CreateUnbounded<IPendingCommand>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });

    private readonly RedisOptions _options;
    private readonly Func<PhysicalConnection, CancellationToken, Task> _handshake;
    private readonly Action<RedisReply>? _pushHandler;
    private readonly CancellationTokenSource _disposing = new();
    private readonly TaskCompletionSource _firstAttempt = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _role;
    private readonly System.Collections.Concurrent.ConcurrentQueue<IPendingCommand> _deadlines = new();
    private readonly long _timeoutMilliseconds;
    private readonly Timer _sweeper;
    private int _sweeping;
    private Task? _runLoop;
    private CancellationTokenSource? _currentSocket;
    private volatile bool _connected;
    private volatile string? _lastError;

    public MultiplexedConnection(
        RedisOptions options,
        string role,
        Func<PhysicalConnection, CancellationToken, Task> handshake,
        Action<RedisReply>? pushHandler)
    {
        _options = options;
        _role = role;
        _handshake = handshake;
        _pushHandler = pushHandler;
        _timeoutMilliseconds = Math.Max(1, (long)options.CommandTimeout.TotalMilliseconds);

        // Sweep often enough that a timeout fires within ~10% of its value (10-100 ms).
        var period = TimeSpan.FromMilliseconds(Math.Clamp(_timeoutMilliseconds / 10, 10, 100));
        _sweeper = new Timer(static state => ((MultiplexedConnection)state!).SweepTimeouts(), this, period, period);
    }

    public event Action<bool, string?>? StateChanged;

    public bool IsConnected => _connected;

    public string? LastError => _lastError;

    public void Start() => _runLoop ??= Task.Run(RunAsync);

    /// <summary>Completes after the first connect attempt, successful or not.</summary>
    public Task FirstAttempt => _firstAttempt.Task;

    /// <summary>Drops the current socket so the handshake runs again (used when subscription state is uncertain).</summary>
    public void ForceReconnect()
    {
        try
        {
            _currentSocket?.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public Task<RedisReply> ExecuteAsync(ReadOnlyMemory<byte>[] args, CancellationToken cancellationToken) =>
        ExecuteAsync(args, ReplyProjections.Raw, cancellationToken);

    /// <summary>Queues a command; the task completes with the projected reply, or faults with the server's error.</summary>
    public Task<T> ExecuteAsync<T>(ReadOnlyMemory<byte>[] args, Func<RedisReply, T> project, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }

        var command = new PendingCommand<T>(args, Environment.TickCount64 + _timeoutMilliseconds, project);
        _deadlines.Enqueue(command);
        if (!_outbox.Writer.TryWrite(command))
        {
            return Task.FromException<T>(new ObjectDisposedException(nameof(MultiplexedConnection), "The Redis client has been disposed."));
        }

        return cancellationToken.CanBeCanceled ? WaitCancellableAsync(command, cancellationToken) : command.Task;
    }

    private static async Task<T> WaitCancellableAsync<T>(PendingCommand<T> command, CancellationToken cancellationToken)
    {
        // Cancelling completes the command first, so the writer skips it or the reader drops its reply.
        using (cancellationToken.UnsafeRegister(static (state, token) => ((PendingCommand<T>)state!).TrySetCanceled(token), command))
        {
            return await command.Task.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Times out commands without a timer per command: every command has the same timeout, so
    /// deadlines are ordered like the queue and a sweep stops at the first one still in time.
    /// </summary>
    private void SweepTimeouts()
    {
        if (Interlocked.Exchange(ref _sweeping, 1) == 1)
        {
            return;
        }

        try
        {
            var now = Environment.TickCount64;
            while (_deadlines.TryPeek(out var command))
            {
                if (!command.IsCompleted && command.Deadline > now)
                {
                    break;
                }

                _deadlines.TryDequeue(out _);
                if (!command.IsCompleted)
                {
                    command.Fail(new RedisTimeoutException(
                        $"Redis {_role} command {Describe(command.Args)} got no reply within {_timeoutMilliseconds} ms "
                        + (_connected ? "(connected; the server is slow or the link is congested)." : $"(not connected; last error: {_lastError ?? "none yet"}).")));
                }
            }
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposing.IsCancellationRequested)
        {
            return;
        }

        _outbox.Writer.TryComplete();
        await _sweeper.DisposeAsync().ConfigureAwait(false);
        _disposing.Cancel();
        if (_runLoop is not null)
        {
            try
            {
                await _runLoop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        while (_outbox.Reader.TryRead(out var command))
        {
            command.Fail(new ObjectDisposedException(nameof(MultiplexedConnection), "The Redis client was disposed before the command was sent."));
        }

        _disposing.Dispose();
    }

    private async Task RunAsync()
    {
        var failures = 0;
        var endpointIndex = 0;
        var stopping = _disposing.Token;
        while (!stopping.IsCancellationRequested)
        {
            var (host, port) = _options.Endpoints[endpointIndex % _options.Endpoints.Count];
            PhysicalConnection? connection = null;
            var connectedAt = 0L;
            try
            {
                using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(stopping))
                {
                    connectTimeout.CancelAfter(_options.ConnectTimeout);
                    try
                    {
                        connection = await PhysicalConnection.ConnectAsync(host, port, _options, connectTimeout.Token).ConfigureAwait(false);
                        await _handshake(connection, connectTimeout.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
                    {
                        throw new RedisConnectionException($"Connecting to {host}:{port} timed out after {_options.ConnectTimeout.TotalMilliseconds:0} ms.");
                    }
                }

                connectedAt = Stopwatch.GetTimestamp();
                using var socketStop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                _currentSocket = socketStop;
                SetState(true, null);
                _firstAttempt.TrySetResult();
                await connection.RunAsync(_outbox.Reader, _pushHandler, socketStop.Token).ConfigureAwait(false);
                _lastError = $"{host}:{port}: connection reset by the client";
            }
#pragma warning disable CA1031 // The loop must survive any failure; while disposing, any error is moot.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                if (!stopping.IsCancellationRequested)
                {
                    _lastError = $"{host}:{port}: {ex.Message}";
                }
            }
            finally
            {
                _currentSocket = null;
                if (connection is not null)
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                }

                SetState(false, _lastError);
                _firstAttempt.TrySetResult();
            }

            // A connection that lived a while resets the backoff; one that dies at once keeps escalating.
            failures = connectedAt != 0 && Stopwatch.GetElapsedTime(connectedAt) > TimeSpan.FromSeconds(1) ? 1 : failures + 1;
            if (connectedAt == 0)
            {
                endpointIndex++;
            }

            try
            {
                await Task.Delay(ReconnectBackoff.Delay(failures - 1, _options.MaxReconnectDelay), stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void SetState(bool connected, string? error)
    {
        if (_connected == connected)
        {
            return;
        }

        _connected = connected;
        StateChanged?.Invoke(connected, error);
    }

    private static string Describe(ReadOnlyMemory<byte>[] args) =>
        args.Length == 0 ? "(empty)" : System.Text.Encoding.ASCII.GetString(args[0].Span);
}
