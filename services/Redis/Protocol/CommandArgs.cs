using System.Globalization;
using System.Text;

namespace Microservices.Redis.Protocol;

/// <summary>Turns typed arguments into the bulk strings RESP sends.</summary>
internal static class CommandArgs
{
    public static ReadOnlyMemory<byte> Encode(object arg) => arg switch
    {
        ReadOnlyMemory<byte> memory => memory,
        byte[] bytes => bytes,
        RedisKey key => key.Bytes,
        string text => Encoding.UTF8.GetBytes(text),
        long number => Number(number),
        int number => Number(number),
        double number => Encoding.ASCII.GetBytes(number.ToString("R", CultureInfo.InvariantCulture)),
        _ => throw new ArgumentException($"Redis arguments must be string, byte[], ReadOnlyMemory<byte>, RedisKey, int, long or double; got {arg.GetType().Name}."),
    };

    public static ReadOnlyMemory<byte> Number(long value) => Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture));

    public static ReadOnlyMemory<byte> Name(string command) => Encoding.ASCII.GetBytes(command);
}
