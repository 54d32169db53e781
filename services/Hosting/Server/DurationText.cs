using System.Globalization;

namespace Microservices.Hosting.Server;

/// <summary>A configured duration the way an operator would say it, for status messages.</summary>
public static class DurationText
{
    /// <summary>"30 s", "1 h", "6 d", "250 ms".</summary>
    public static string Describe(TimeSpan span) => span switch
    {
        { TotalDays: >= 1 } when span.Ticks % TimeSpan.TicksPerDay == 0 => Whole(span.TotalDays, "d"),
        { TotalHours: >= 1 } when span.Ticks % TimeSpan.TicksPerHour == 0 => Whole(span.TotalHours, "h"),
        { TotalMinutes: >= 1 } when span.Ticks % TimeSpan.TicksPerMinute == 0 => Whole(span.TotalMinutes, "min"),
        { TotalSeconds: >= 1 } => span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s",
        _ => span.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + " ms",
    };

    private static string Whole(double value, string unit) => value.ToString("0", CultureInfo.InvariantCulture) + " " + unit;
}
