namespace Microservices.TestSupport;

/// <summary>
/// A client-stream write that lost the race with the server ending the call. grpc-dotnet 2.85 lets
/// such a write fail in several forms besides an RpcException: InvalidOperationException (the call
/// was already complete), the transport's HTTP/2 STREAM_CLOSED (bare, or wrapped as "The request
/// was aborted"), or a broken pipe. Tests that provoke the race ignore these and assert the call's
/// status, which is what a caller acts on.
/// </summary>
public static class ServerEndedWrite
{
    public static bool Is(Exception error) => error is InvalidOperationException or IOException or System.Net.Http.HttpProtocolException
        || error is System.Net.Http.HttpRequestException { InnerException: System.Net.Http.HttpProtocolException };

    /// <summary>
    /// Runs a client stream's writes, ignoring their failure when the server ended the call first
    /// (an RpcException such as CANCELLED, or one of the forms above); the caller then asserts the
    /// call's own status.
    /// </summary>
    public static async Task IgnoringRefusalAsync(Func<Task> write)
    {
        try
        {
            await write();
        }
        catch (Exception error) when (error is Grpc.Core.RpcException || Is(error))
        {
        }
    }
}
