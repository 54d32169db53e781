namespace Microservices.Redis.Connection;

/// <summary>Exponential backoff with jitter so a fleet of clients does not reconnect in lockstep.</summary>
internal static class ReconnectBackoff
{
    private static readonly TimeSpan Base = TimeSpan.FromMilliseconds(50);

    public static TimeSpan Delay(int failedAttempts, TimeSpan max)
    {
        if (failedAttempts <= 0)
        {
            return TimeSpan.Zero;
        }

        var exponential = Base.TotalMilliseconds * Math.Pow(2, Math.Min(failedAttempts - 1, 16));
        var capped = Math.Min(exponential, max.TotalMilliseconds);
        var jittered = capped * (0.8 + (Random.Shared.NextDouble() * 0.4));
        return TimeSpan.FromMilliseconds(jittered);
    }
}
