namespace Microservices.Caching.RateLimiting;

/// <summary>
/// One method's budget per owner, a token bucket: <see cref="PermitsPerPeriod"/> calls come back every
/// <see cref="Period"/>, and at most <see cref="Burst"/> (default: PermitsPerPeriod) can be saved up.
/// </summary>
public sealed class MethodRateLimit
{
    public int PermitsPerPeriod { get; set; }

    public TimeSpan Period { get; set; }

    public int? Burst { get; set; }

    internal int Capacity => Burst ?? PermitsPerPeriod;

    internal void Validate(string key)
    {
        if (PermitsPerPeriod < 1)
        {
            throw new InvalidOperationException($"Configuration {key}:PermitsPerPeriod must be a positive integer, got {PermitsPerPeriod}.");
        }

        if (Period <= TimeSpan.Zero)
        {
            throw new InvalidOperationException($"Configuration {key}:Period must be a positive TimeSpan like 01:00:00, got {Period}.");
        }

        if (Capacity < 1)
        {
            throw new InvalidOperationException($"Configuration {key}:Burst must be a positive integer, got {Burst}.");
        }
    }
}
