namespace Microservices.Redis.Connection;

/// <summary>
/// A command waiting for its reply, matched by the read loop in wire order; a caller that gave up
/// (timeout, cancellation) completes it first, so the writer skips it or the reader discards its reply.
/// Continuations run synchronously on whoever completes it: the read loop never completes commands
/// itself but hands each parsed batch to a thread-pool item (see <see cref="ReplyBatch"/>).
/// </summary>
internal sealed class PendingCommand : TaskCompletionSource<RedisReply>
{
    public PendingCommand(ReadOnlyMemory<byte>[] args, long deadline)
        : base(TaskCreationOptions.None)
    {
        Args = args;
        Deadline = deadline;
    }

    public ReadOnlyMemory<byte>[] Args { get; }

    /// <summary><see cref="Environment.TickCount64"/> after which the command times out.</summary>
    public long Deadline { get; }
}
