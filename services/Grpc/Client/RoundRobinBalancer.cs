using System.Net;

namespace Microservices.Grpc.Client;

/// <summary>
/// Spreads calls over every address the target's name resolves to, one subchannel each, and
/// resolves again periodically. A single HTTP/2 connection would pin every call to one pod
/// behind a Kubernetes headless Service; this is gRPC's round_robin policy.
/// </summary>
internal sealed class RoundRobinBalancer : IDisposable
{
    private static readonly TimeSpan UnhealthyPeriod = TimeSpan.FromSeconds(1);
    private readonly string _host;
    private readonly int _port;
    private readonly GrpcChannelOptions _options;
    private readonly SemaphoreSlim _resolveLock = new(1, 1);
    private readonly CancellationTokenSource _disposed = new();
    private readonly Timer _refreshTimer;
    private volatile Subchannel[] _subchannels = [];
    private int _next;

    public RoundRobinBalancer(string host, int port, GrpcChannelOptions options)
    {
        _host = host;
        _port = port;
        _options = options;
        _refreshTimer = new Timer(_ => _ = RefreshAsync(CancellationToken.None), null, options.AddressRefreshInterval, options.AddressRefreshInterval);
    }

    public IReadOnlyList<IPEndPoint> EndPoints => _subchannels.Select(s => s.EndPoint).ToList();

    public async ValueTask<Subchannel> PickAsync(CancellationToken cancellationToken)
    {
        var subchannels = _subchannels;
        if (subchannels.Length == 0)
        {
            await RefreshAsync(cancellationToken).ConfigureAwait(false);
            subchannels = _subchannels;
            if (subchannels.Length == 0)
            {
                throw new RpcException(StatusCode.Unavailable, $"Name '{_host}' resolved to no addresses.");
            }
        }

        var start = (int)((uint)Interlocked.Increment(ref _next) % (uint)subchannels.Length);
        for (var i = 0; i < subchannels.Length; i++)
        {
            var candidate = subchannels[(start + i) % subchannels.Length];
            if (candidate.IsHealthy)
            {
                return candidate;
            }
        }

        // Every address failed recently: try one anyway rather than fail without trying.
        return subchannels[start];
    }

    public void ReportConnectFailure(Subchannel subchannel)
    {
        subchannel.MarkUnhealthy(UnhealthyPeriod);
        _ = RefreshAsync(CancellationToken.None);
    }

    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        await _resolveLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            IReadOnlyList<IPAddress> addresses;
            try
            {
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposed.Token);
                addresses = await _options.AddressResolver.ResolveAsync(_host, linked.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or OperationCanceledException)
            {
                // Keep serving from the last good answer; DNS hiccups must not drop every connection.
                if (_subchannels.Length == 0 && ex is System.Net.Sockets.SocketException)
                {
                    throw new RpcException(StatusCode.Unavailable, $"Could not resolve '{_host}': {ex.Message}");
                }

                return;
            }

            Apply(addresses.Distinct().Select(a => new IPEndPoint(a, _port)).ToList());
        }
        finally
        {
            _resolveLock.Release();
        }
    }

    public void Dispose()
    {
        _disposed.Cancel();
        _refreshTimer.Dispose();
        foreach (var subchannel in _subchannels)
        {
            subchannel.Dispose();
        }

        _subchannels = [];
    }

    private void Apply(List<IPEndPoint> endPoints)
    {
        if (_disposed.IsCancellationRequested || endPoints.Count == 0)
        {
            return;
        }

        var current = _subchannels;
        var kept = current.Where(s => endPoints.Contains(s.EndPoint)).ToList();
        var added = endPoints.Where(e => kept.All(s => !s.EndPoint.Equals(e))).Select(e => new Subchannel(e, _options));
        var next = kept.Concat(added).ToArray();
        _subchannels = next;
        foreach (var removed in current.Except(kept))
        {
            // Calls in flight on a removed address finish first: dispose it after a grace period.
            _ = Task.Delay(TimeSpan.FromSeconds(30)).ContinueWith(_ => removed.Dispose(), TaskScheduler.Default);
        }
    }
}
