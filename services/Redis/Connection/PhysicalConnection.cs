using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Threading.Channels;
using Microservices.Redis.Protocol;

namespace Microservices.Redis.Connection;

/// <summary>
/// One socket's lifetime. A write loop drains the shared outbox into the pipe, recording each
/// command in the in-flight queue before its bytes can reach the server; a read loop parses replies
/// and completes in-flight commands strictly in order. When either loop fails, everything in flight
/// fails with <see cref="RedisConnectionException"/>: a reply is never guessed.
/// </summary>
internal sealed class PhysicalConnection : IAsyncDisposable
{
    private const int MaxUnflushedBytes = 1 << 20;

    private readonly Stream _stream;
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;
    private readonly ConcurrentQueue<IPendingCommand> _inFlight = new();
    private readonly string _endpoint;
    private int _lastBatchSize = 16;

    private PhysicalConnection(Stream stream, string endpoint)
    {
        _stream = stream;
        _endpoint = endpoint;
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 8 * 1024));
        _writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 64 * 1024));
    }

    public string Endpoint => _endpoint;

    public static async Task<PhysicalConnection> ConnectAsync(string host, int port, RedisOptions options, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, Math.Max(1, (int)options.KeepAlive.TotalSeconds));
            await socket.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
            Stream stream = new NetworkStream(socket, ownsSocket: true);
            if (options.Ssl)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                await ssl.AuthenticateAsClientAsync(
                    new SslClientAuthenticationOptions
                    {
                        TargetHost = options.SslHost ?? host,
                        RemoteCertificateValidationCallback = options.CertificateValidation,
                    },
                    cancellationToken).ConfigureAwait(false);
                stream = ssl;
            }

            return new PhysicalConnection(stream, $"{host}:{port}");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends one command and reads its reply before the loops start (handshake only).</summary>
    public async Task<RedisReply> ExecuteDirectAsync(ReadOnlyMemory<byte>[] args, CancellationToken cancellationToken)
    {
        RespWriter.WriteCommand(_writer, args);
        await _writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        while (true)
        {
            var result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (TryParseOne(result.Buffer, out var reply, out var consumed))
            {
                _reader.AdvanceTo(consumed);
                return reply;
            }

            _reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            if (result.IsCompleted)
            {
                throw new RedisConnectionException($"{_endpoint} closed the connection during the handshake.");
            }
        }
    }

    /// <summary>Runs both loops until the connection breaks or <paramref name="stopping"/> fires.</summary>
    public async Task RunAsync(ChannelReader<IPendingCommand> outbox, Action<RedisReply>? pushHandler, CancellationToken stopping)
    {
        using var broken = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var writeLoop = WriteLoopAsync(outbox, broken.Token);
        var readLoop = ReadLoopAsync(pushHandler, broken.Token);
        var first = await Task.WhenAny(writeLoop, readLoop).ConfigureAwait(false);
        broken.Cancel();

        // Closing the stream unblocks a read or write stuck in the kernel.
        await _stream.DisposeAsync().ConfigureAwait(false);
        Exception? cause = null;
        foreach (var loop in new[] { first, first == writeLoop ? readLoop : writeLoop })
        {
            try
            {
                await loop.ConfigureAwait(false);
            }
            catch (Exception ex) when (cause is null && ex is not OperationCanceledException)
            {
                cause = ex;
            }
            catch
            {
                // The second loop only fails because we tore the connection down.
            }
        }

        FailInFlight(cause);
        if (cause is not null)
        {
            throw cause is RedisException ? cause : new RedisConnectionException($"Connection to {_endpoint} failed: {cause.Message}", cause);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync().ConfigureAwait(false);
        FailInFlight(null);
    }

    private void FailInFlight(Exception? cause)
    {
        while (_inFlight.TryDequeue(out var command))
        {
            command.Fail(new RedisConnectionException(
                $"Connection to {_endpoint} was lost before the reply arrived; the command may or may not have run.{(cause is null ? "" : " Cause: " + cause.Message)}",
                cause));
        }
    }

    private async Task WriteLoopAsync(ChannelReader<IPendingCommand> outbox, CancellationToken cancellationToken)
    {
        // Yield so RunAsync can start the read loop before this one blocks.
        await Task.Yield();
        while (await outbox.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (_writer.UnflushedBytes < MaxUnflushedBytes && outbox.TryRead(out var command))
            {
                if (command.IsCompleted)
                {
                    // The caller gave up before the command reached the wire: never send it.
                    continue;
                }

                _inFlight.Enqueue(command);
                RespWriter.WriteCommand(_writer, command.Args);
            }

            var flush = await _writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (flush.IsCompleted || flush.IsCanceled)
            {
                return;
            }
        }
    }

    private async Task ReadLoopAsync(Action<RedisReply>? pushHandler, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var consumed = DispatchReplies(result.Buffer, pushHandler);
            _reader.AdvanceTo(consumed, result.Buffer.End);
            if (result.IsCompleted)
            {
                throw new RedisConnectionException($"{_endpoint} closed the connection.");
            }
        }
    }

    private SequencePosition DispatchReplies(ReadOnlySequence<byte> buffer, Action<RedisReply>? pushHandler)
    {
        var reader = new SequenceReader<byte>(buffer);
        ReplyBatch? batch = null;
        while (RespParser.TryRead(ref reader, out var reply))
        {
            if (reply.IsPush || (pushHandler is not null && IsPush(reply)))
            {
                // RESP3 pushes on the interactive connection (none are requested today) are dropped.
                pushHandler?.Invoke(reply);
                continue;
            }

            if (!_inFlight.TryDequeue(out var command))
            {
                throw new RedisProtocolException($"{_endpoint} sent a reply nobody was waiting for: {reply}");
            }

            (batch ??= new ReplyBatch(_lastBatchSize)).Add(command, reply);
        }

        if (batch is not null)
        {
            _lastBatchSize = batch.Count;
            ThreadPool.UnsafeQueueUserWorkItem(batch, preferLocal: false);
        }

        return reader.Position;
    }

    private static bool TryParseOne(ReadOnlySequence<byte> buffer, out RedisReply reply, out SequencePosition consumed)
    {
        var reader = new SequenceReader<byte>(buffer);
        var ok = RespParser.TryRead(ref reader, out reply);
        consumed = reader.Position;
        return ok;
    }

    /// <summary>Pub/sub deliveries on a subscriber connection: ["message", ch, payload] or ["pmessage", pattern, ch, payload].</summary>
    private static bool IsPush(RedisReply reply)
    {
        if (reply.Kind != RedisReplyKind.Array || reply.Elements!.Count < 3 || reply.Elements[0].Kind != RedisReplyKind.BulkString)
        {
            return false;
        }

        var kind = reply.Elements[0].Bytes!.AsSpan();
        return kind.SequenceEqual("message"u8) || kind.SequenceEqual("pmessage"u8);
    }
}
