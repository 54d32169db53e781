namespace Microservices.Redis.Connection;

/// <summary>
/// A command waiting for its reply, as the connection's queues see it. Matched by the read loop in
/// wire order; a caller that gave up (timeout, cancellation) completes it first, so the writer skips
/// it or the reader discards its reply.
/// </summary>
internal interface IPendingCommand
{
    ReadOnlyMemory<byte>[] Args { get; }

    /// <summary><see cref="Environment.TickCount64"/> after which the command times out.</summary>
    long Deadline { get; }

    bool IsCompleted { get; }

    void Complete(RedisReply reply);

    void Fail(Exception error);
}

/// <summary>
/// Completes straight into the caller's typed task (no extra async hop to convert the reply).
/// Continuations run synchronously on whoever completes it: the read loop never completes commands
/// itself but hands each parsed batch to a thread-pool item (see <see cref="ReplyBatch"/>).
/// </summary>
internal sealed class PendingCommand<T> : TaskCompletionSource<T>, IPendingCommand
{
    private readonly Func<RedisReply, T> _project;

    public PendingCommand(ReadOnlyMemory<byte>[] args, long deadline, Func<RedisReply, T> project)
        : base(TaskCreationOptions.None)
    {
        Args = args;
        Deadline = deadline;
        _project = project;
    }

    public ReadOnlyMemory<byte>[] Args { get; }

    public long Deadline { get; }

    public bool IsCompleted => Task.IsCompleted;

    public void Complete(RedisReply reply)
    {
        if (reply.IsError)
        {
            TrySetException(new RedisServerException(reply.AsString()!));
            return;
        }

        T value;
        try
        {
            value = _project(reply);
        }
        catch (RedisException ex)
        {
            TrySetException(ex);
            return;
        }

        TrySetResult(value);
    }

    public void Fail(Exception error) => TrySetException(error);
}
