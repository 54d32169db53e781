using System.Globalization;
using Grpc.Core;

namespace Microservices.Clients;

/// <summary>
/// Cancels a long client stream that stops making progress. A deadline would have to fit the
/// largest upload; this fits any size and still ends a call the transport left waiting (the
/// README's "give every client stream a deadline": a stream re-sent without its body waits for
/// ever otherwise). Call <see cref="Progressed"/> after each message written or read.
/// </summary>
public sealed class StallGuard : IDisposable
{
    /// <summary>Between two messages of a healthy stream, far more than any pause; a server's work after the last message may need its own wait (<see cref="Progressed"/>).</summary>
    public static readonly TimeSpan DefaultLimit = TimeSpan.FromMinutes(2);

    private readonly CancellationTokenSource _source;
    private readonly CancellationToken _caller;
    private TimeSpan _armed;

    public StallGuard(TimeSpan limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(limit, TimeSpan.Zero);
        Limit = limit;
        _caller = cancellationToken;
        _source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Progressed();
    }

    public TimeSpan Limit { get; }

    /// <summary>For the call's options: cancelled by the caller or by a stall.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>The guard, not the caller, ended the call.</summary>
    public bool Stalled => _source.IsCancellationRequested && !_caller.IsCancellationRequested;

    /// <summary>Progress: the next must come within <paramref name="next"/> (the server finishing a large upload may need longer than <see cref="Limit"/>).</summary>
    public void Progressed(TimeSpan? next = null)
    {
        _armed = next ?? Limit;
        _source.CancelAfter(_armed);
    }

    /// <summary>What to report for a call this guard ended: DEADLINE_EXCEEDED naming the call and the wait that ran out.</summary>
    public RpcException Error(string call) => new(new Status(
        StatusCode.DeadlineExceeded,
        string.Create(CultureInfo.InvariantCulture, $"{call} made no progress for {_armed.TotalSeconds:0.###} s")));

    public void Dispose() => _source.Dispose();
}
