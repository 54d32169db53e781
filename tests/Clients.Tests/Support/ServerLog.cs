using System.Collections.Concurrent;
using System.Net;
using Grpc.Core;

namespace Microservices.Clients.Tests.Support;

/// <summary>One call as a test host saw it: what arrived where, over which connection, with which deadline.</summary>
internal sealed record ServerCall(string Method, DateTime Deadline, IPAddress? LocalAddress, string ConnectionId, Metadata Headers);

/// <summary>
/// What one test host saw, counted server-side, and how it misbehaves on request: the next N
/// calls answer UNAVAILABLE before any handler work, as a restarting pod would.
/// </summary>
internal sealed class ServerLog
{
    private readonly ConcurrentQueue<ServerCall> _calls = new();
    private int _failuresLeft;

    public IReadOnlyList<ServerCall> Calls => _calls.ToArray();

    /// <summary>Completes when a handler's cancellation token fired while it waited.</summary>
    public TaskCompletionSource HandlerCancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Count(string method) => _calls.Count(c => c.Method == method);

    public void FailNext(int calls) => Volatile.Write(ref _failuresLeft, calls);

    public void Clear() => _calls.Clear();

    public void Enter(ServerCallContext context)
    {
        var http = context.GetHttpContext();
        var method = context.Method[(context.Method.LastIndexOf('/') + 1)..];
        _calls.Enqueue(new ServerCall(method, context.Deadline, http.Connection.LocalIpAddress, http.Connection.Id, context.RequestHeaders));
        if (Interlocked.Decrement(ref _failuresLeft) >= 0)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "Failing on purpose, as a restarting pod would."));
        }
    }
}
