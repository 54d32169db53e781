namespace Microservices.Redis.Connection;

/// <summary>
/// A command waiting for its reply. Completed by the read loop in wire order; a caller that gave up
/// (timeout, cancellation) completes it first, so the writer skips it or the reader discards its reply.
/// </summary>
internal sealed class PendingCommand : TaskCompletionSource<RedisReply>
{
    public PendingCommand(ReadOnlyMemory<byte>[] args)
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        Args = args;
    }

    public ReadOnlyMemory<byte>[] Args { get; }
}
