using System.Globalization;
using System.Text;

namespace Microservices.Redis;

public enum RedisReplyKind
{
    SimpleString,
    Error,
    Integer,
    BulkString,
    Array,
    /// <summary>A nil bulk string or nil array.</summary>
    Null,
}

/// <summary>One RESP reply as the server sent it; arrays nest.</summary>
public sealed class RedisReply
{
    internal static readonly RedisReply Null = new(RedisReplyKind.Null, null, 0, null);

    private RedisReply(RedisReplyKind kind, byte[]? bytes, long integer, RedisReply[]? elements, bool isPush = false)
    {
        Kind = kind;
        Bytes = bytes;
        Integer = integer;
        Elements = elements;
        IsPush = isPush;
    }

    public RedisReplyKind Kind { get; }

    /// <summary>The payload of a simple string, error or bulk string.</summary>
    public byte[]? Bytes { get; }

    public long Integer { get; }

    public IReadOnlyList<RedisReply>? Elements { get; }

    public bool IsNull => Kind == RedisReplyKind.Null;

    public bool IsError => Kind == RedisReplyKind.Error;

    /// <summary>A RESP3 out-of-band push (never the reply to a command).</summary>
    internal bool IsPush { get; }

    internal static RedisReply SimpleString(byte[] bytes) => new(RedisReplyKind.SimpleString, bytes, 0, null);

    internal static RedisReply Error(byte[] bytes) => new(RedisReplyKind.Error, bytes, 0, null);

    internal static RedisReply FromInteger(long value) => new(RedisReplyKind.Integer, null, value, null);

    internal static RedisReply Bulk(byte[] bytes) => new(RedisReplyKind.BulkString, bytes, 0, null);

    internal static RedisReply Array(RedisReply[] elements) => new(RedisReplyKind.Array, null, 0, elements);

    internal static RedisReply Push(RedisReply[] elements) => new(RedisReplyKind.Array, null, 0, elements, isPush: true);

    /// <summary>The reply as text: strings decoded as UTF-8, integers formatted, nil as null.</summary>
    public string? AsString() => Kind switch
    {
        RedisReplyKind.Integer => Integer.ToString(CultureInfo.InvariantCulture),
        RedisReplyKind.Null => null,
        RedisReplyKind.Array => throw new InvalidCastException("An array reply has no string value."),
        _ => Encoding.UTF8.GetString(Bytes!),
    };

    public override string ToString() => Kind switch
    {
        RedisReplyKind.Array => "[" + string.Join(", ", Elements!.Select(e => e.ToString())) + "]",
        RedisReplyKind.Null => "(nil)",
        RedisReplyKind.Error => "(error) " + AsString(),
        _ => AsString()!,
    };
}
