using Grpc.Core;

namespace Microservices.TestSupport;

/// <summary>The status a call ended with: OK, or the RpcException's (for tests that tabulate outcomes).</summary>
public static class CallStatus
{
    public static async Task<Status> OfAsync(Func<Task> call)
    {
        try
        {
            await call();
            return Status.DefaultSuccess;
        }
        catch (RpcException error)
        {
            return error.Status;
        }
    }
}
