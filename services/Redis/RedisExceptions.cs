namespace Microservices.Redis;

/// <summary>Base of every failure the client reports.</summary>
public class RedisException : Exception
{
    public RedisException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

/// <summary>The server answered with an error reply (e.g. "ERR", "WRONGTYPE", "NOSCRIPT").</summary>
public sealed class RedisServerException : RedisException
{
    public RedisServerException(string message)
        : base(message)
    {
    }

    /// <summary>The first word of the error, e.g. "WRONGTYPE".</summary>
    public string Prefix => Message.Split(' ', 2)[0];
}

/// <summary>
/// The connection broke before the reply arrived. The command may or may not have run on the
/// server; the client never guesses a reply.
/// </summary>
public sealed class RedisConnectionException : RedisException
{
    public RedisConnectionException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

/// <summary>No reply within the command timeout. The command may still run on the server.</summary>
public sealed class RedisTimeoutException : RedisException
{
    public RedisTimeoutException(string message)
        : base(message)
    {
    }
}

/// <summary>The bytes from the server were not valid RESP; the connection is dropped.</summary>
public sealed class RedisProtocolException : RedisException
{
    public RedisProtocolException(string message)
        : base(message)
    {
    }
}
