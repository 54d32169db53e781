namespace Microservices.Caching.L2;

internal static class RedisCall
{
    /// <summary>
    /// StackExchange.Redis calls take no CancellationToken: this stops waiting when the token fires.
    /// The command itself still completes (or times out) inside the multiplexer; a late failure is
    /// observed here so it never surfaces as an unobserved task exception.
    /// </summary>
    public static async Task<T> BoundAsync<T>(this Task<T> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!call.IsCompleted)
        {
            _ = call.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }
    }
}
