using Grpc.Core;

namespace Microservices.Export.Tests.Support;

internal static class RpcAssert
{
    /// <summary>The call fails with exactly <paramref name="code"/>; returns the exception for its message.</summary>
    public static async Task<RpcException> FailsAsync(StatusCode code, Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(error.StatusCode == code, $"expected {code}, got {error.StatusCode}: {error.Status.Detail}");
        return error;
    }

    /// <summary>A server-streaming call fails with <paramref name="code"/> when it is read.</summary>
    public static Task<RpcException> StreamFailsAsync<T>(StatusCode code, Func<AsyncServerStreamingCall<T>> start) => FailsAsync(code, async () =>
    {
        using var call = start();
        await foreach (var _ in call.ResponseStream.ReadAllAsync())
        {
        }
    });
}
