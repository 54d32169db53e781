using System.Text.Json;
using System.Threading.Channels;
using Microservices.Registry.Models;
using Microservices.Registry.Repositories;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Microservices.Registry.Changes;

/// <summary>
/// Carries committed changes between replicas that share one PostgreSQL database, over
/// LISTEN/NOTIFY on <see cref="ChannelName"/>, so a Watch on any replica sees every replica's
/// writes. Each replica ignores its own notifications (its watchers already had them).
/// NOTIFY payloads stop at 8000 bytes: a change whose tags don't fit travels without them and
/// the receiver reads the model back (a delete is delivered without its tags).
/// </summary>
internal sealed partial class PostgresChangeRelay(
    string connectionString,
    ModelChangeFeed feed,
    IModelStore store,
    ILogger<PostgresChangeRelay> logger) : IHostedService, IAsyncDisposable
{
    public const string ChannelName = "registry_changes";
    private const int MaxPayloadBytes = 7900;

    private readonly string _replica = Guid.NewGuid().ToString("N");
    private readonly Channel<ModelChange> _outgoing = Channel.CreateUnbounded<ModelChange>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<RelayedChange> _incoming = Channel.CreateUnbounded<RelayedChange>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private NpgsqlDataSource? _dataSource;
    private Task _loops = Task.CompletedTask;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _dataSource = NpgsqlDataSource.Create(connectionString);
        // LISTEN before serving, so no change committed after startup is missed.
        var listener = await ListenAsync(cancellationToken);
        feed.Committed += OnCommitted;
        _loops = Task.WhenAll(ListenLoopAsync(listener), SendLoopAsync(), DeliverLoopAsync());
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        feed.Committed -= OnCommitted;
        await _stopping.CancelAsync();
        _outgoing.Writer.TryComplete();
        _incoming.Writer.TryComplete();
        await _loops.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync();
        }

        _stopping.Dispose();
    }

    private void OnCommitted(ModelChange change) => _outgoing.Writer.TryWrite(change);

    private async Task<NpgsqlConnection> ListenAsync(CancellationToken cancellationToken)
    {
        var connection = await _dataSource!.OpenConnectionAsync(cancellationToken);
        connection.Notification += (_, e) =>
        {
            var relayed = JsonSerializer.Deserialize<RelayedChange>(e.Payload);
            if (relayed is not null && relayed.Replica != _replica)
            {
                _incoming.Writer.TryWrite(relayed);
            }
        };
        await using var listen = new NpgsqlCommand($"LISTEN {ChannelName}", connection);
        await listen.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    private async Task ListenLoopAsync(NpgsqlConnection connection)
    {
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                await connection.WaitAsync(_stopping.Token);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is NpgsqlException or IOException)
            {
                LogListenFailed(logger, e);
                await connection.DisposeAsync();
                connection = await ReconnectAsync();
            }
        }

        await connection.DisposeAsync();
    }

    private async Task<NpgsqlConnection> ReconnectAsync()
    {
        while (true)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), _stopping.Token);
                return await ListenAsync(_stopping.Token);
            }
            catch (Exception e) when (e is NpgsqlException or IOException)
            {
                LogListenFailed(logger, e);
            }
        }
    }

    private async Task SendLoopAsync()
    {
        await foreach (var change in _outgoing.Reader.ReadAllAsync())
        {
            try
            {
                await using var notify = _dataSource!.CreateCommand("SELECT pg_notify(@channel, @payload)");
                notify.Parameters.AddWithValue("channel", ChannelName);
                notify.Parameters.AddWithValue("payload", Payload(change));
                await notify.ExecuteNonQueryAsync(_stopping.Token);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is NpgsqlException or IOException)
            {
                // The write is committed; only other replicas' watchers miss it. Say so.
                LogNotifyFailed(logger, e, change.Owner, change.ModelId);
            }
        }
    }

    private async Task DeliverLoopAsync()
    {
        await foreach (var relayed in _incoming.Reader.ReadAllAsync())
        {
            var model = relayed.Model;
            if (relayed.TagsOmitted && relayed.Kind != ModelChangeKind.Deleted)
            {
                model = await store.FindByIdAsync(model.Owner, model.ModelId, CancellationToken.None) ?? model;
            }

            feed.PublishRelayed(relayed.Kind, model, relayed.CommittedAt);
        }
    }

    private string Payload(ModelChange change)
    {
        var payload = JsonSerializer.Serialize(new RelayedChange(_replica, change.Kind, change.Model, change.CommittedAt, false));
        return payload.Length <= MaxPayloadBytes
            ? payload
            : JsonSerializer.Serialize(new RelayedChange(_replica, change.Kind, change.Model with { Tags = RegisteredModel.EmptyTags }, change.CommittedAt, true));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listening for other replicas' changes failed; reconnecting")]
    private static partial void LogListenFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not tell other replicas about the change to {Owner}/{ModelId}; their watchers miss it")]
    private static partial void LogNotifyFailed(ILogger logger, Exception exception, string owner, string modelId);

    internal sealed record RelayedChange(string Replica, ModelChangeKind Kind, RegisteredModel Model, DateTimeOffset CommittedAt, bool TagsOmitted);
}
