using System.Security.Cryptography;

namespace Microservices.Caching.Coordination;

internal static class LeaseToken
{
    public static string New() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public static long Milliseconds(TimeSpan lease) =>
        lease > TimeSpan.Zero ? Math.Max(1, (long)lease.TotalMilliseconds) : throw new ArgumentOutOfRangeException(nameof(lease), "A lease must be positive.");
}
