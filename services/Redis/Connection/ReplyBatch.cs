namespace Microservices.Redis.Connection;

/// <summary>
/// Replies parsed from one socket read, completed together on a thread-pool item. One hop per
/// read instead of one per reply, and a caller's continuation (even a blocking one) can never
/// stall the read loop.
/// </summary>
internal sealed class ReplyBatch : IThreadPoolWorkItem
{
    private readonly List<(IPendingCommand Command, RedisReply Reply)> _items;

    public ReplyBatch(int expected) => _items = new(expected);

    public int Count => _items.Count;

    public void Add(IPendingCommand command, RedisReply reply) => _items.Add((command, reply));

    public void Execute()
    {
        foreach (var (command, reply) in _items)
        {
            command.Complete(reply);
        }
    }
}
