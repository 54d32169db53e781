namespace Microservices.Redis.Protocol;

/// <summary>Reply-to-result conversions run when a reply completes its command.</summary>
internal static class ReplyProjections
{
    public static readonly Func<RedisReply, RedisReply> Raw = static reply => reply;

    public static readonly Func<RedisReply, byte[]?> NullableBytes = static reply => reply.Kind switch
    {
        RedisReplyKind.Null => null,
        RedisReplyKind.BulkString or RedisReplyKind.SimpleString => reply.Bytes,
        _ => throw Unexpected("a bulk string", reply),
    };

    public static readonly Func<RedisReply, long> Integer = static reply =>
        reply.Kind == RedisReplyKind.Integer ? reply.Integer : throw Unexpected("an integer", reply);

    /// <summary>SET answers +OK, or nil when NX/XX was not met.</summary>
    public static readonly Func<RedisReply, bool> NotNull = static reply => !reply.IsNull;

    public static RedisProtocolException Unexpected(string expected, RedisReply reply) =>
        new($"Expected {expected} reply, got {reply.Kind}.");
}
