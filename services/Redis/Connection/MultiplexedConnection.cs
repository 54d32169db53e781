using System.Diagnostics;
using System.Threading.Channels;

namespace Microservices.Redis.Connection;

/// <summary>
/// One logical connection shared by every caller: commands from all of them go through a single
/// outbox onto whichever socket is current. A background loop connects, runs the handshake, and on
/// failure reconnects with backoff; commands queued meanwhile wait (up to their timeout) and are
/// written once a socket is back.
/// </summary>
internal sealed class MultiplexedConnection : IAsyncDisposable
{
    private readonly Channel<PendingCommand> _outbox = Channel.CreateUnbounded<PendingCommand>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });

    private readonly RedisOptions _options;
    private readonly Func<PhysicalConnection, CancellationToken, Task> _handshake;
    private readonly Action<RedisReply>? _pushHandler;
    private readonly CancellationTokenSource _disposing = new();
    private readonly TaskCompletionSource _firstAttempt = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _role;
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

    public async Task<RedisReply> ExecuteAsync(ReadOnlyMemory<byte>[] args, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var command = new PendingCommand(args);
        if (!_outbox.Writer.TryWrite(command))
        {
            throw new ObjectDisposedException(nameof(MultiplexedConnection), "The Redis client has been disposed.");
        }

        try
        {
            return await command.Task.WaitAsync(_options.CommandTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException) when (command.TrySetCanceled())
        {
            throw new RedisTimeoutException(
                $"Redis {_role} command {Describe(args)} got no reply within {_options.CommandTimeout.TotalMilliseconds:0} ms "
                + (_connected ? "(connected; the server is slow or the link is congested)." : $"(not connected; last error: {_lastError ?? "none yet"})."));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            command.TrySetCanceled(cancellationToken);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposing.IsCancellationRequested)
        {
            return;
        }

        _outbox.Writer.TryComplete();
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
            command.TrySetException(new ObjectDisposedException(nameof(MultiplexedConnection), "The Redis client was disposed before the command was sent."));
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
            catch (Exception ex) when (!stopping.IsCancellationRequested)
            {
                _lastError = $"{host}:{port}: {ex.Message}";
            }
            catch (OperationCanceledException)
            {
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
