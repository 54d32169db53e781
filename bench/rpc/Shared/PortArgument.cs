namespace Microservices.Bench.Rpc;

/// <summary>The command line every bench/rpc server takes, the same as the C++ and grpcio servers': <c>--port N</c>.</summary>
internal static class PortArgument
{
    /// <returns>The port, or null after printing the usage to stderr.</returns>
    public static int? Parse(string[] args, string program)
    {
        if (args is ["--port", var text] && int.TryParse(text, out var port) && port is > 0 and <= 65535)
        {
            return port;
        }

        Console.Error.WriteLine($"usage: {program} --port N");
        return null;
    }
}
