using System.Threading.Channels;
using Grpc.Health.V1;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Microservices.Grpc.Health;

/// <summary>
/// Per-service serving status reported by grpc.health.v1. "" is the whole server. Hosts flip a
/// service to NOT_SERVING when a dependency is lost; every service flips when the host stops.
/// </summary>
public sealed class HealthStatusRegistry
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ServingStatus> _statuses = new(StringComparer.Ordinal);
    private readonly List<Channel<(string Service, ServingStatus Status)>> _watchers = [];

    public void SetStatus(string service, ServingStatus status)
    {
        lock (_lock)
        {
            if (_statuses.TryGetValue(service, out var current) && current == status)
            {
                return;
            }

            _statuses[service] = status;
            foreach (var watcher in _watchers)
            {
                watcher.Writer.TryWrite((service, status));
            }
        }
    }

    public ServingStatus? GetStatus(string service)
    {
        lock (_lock)
        {
            return _statuses.TryGetValue(service, out var status) ? status : null;
        }
    }

    /// <summary>Marks every known service NOT_SERVING, as a host does while shutting down.</summary>
    public void SetAllNotServing()
    {
        lock (_lock)
        {
            foreach (var service in _statuses.Keys.ToList())
            {
                SetStatus(service, ServingStatus.NotServing);
            }
        }
    }

    internal Subscription Subscribe()
    {
        // Keep only the newest changes for a slow watcher; Watch re-reads the current status anyway.
        var channel = Channel.CreateBounded<(string, ServingStatus)>(
            new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        lock (_lock)
        {
            _watchers.Add(channel);
        }

        return new Subscription(this, channel);
    }

    internal sealed class Subscription(HealthStatusRegistry registry, Channel<(string Service, ServingStatus Status)> channel) : IDisposable
    {
        public ChannelReader<(string Service, ServingStatus Status)> Changes => channel.Reader;

        public void Dispose()
        {
            lock (registry._lock)
            {
                registry._watchers.Remove(channel);
            }
        }
    }
}
