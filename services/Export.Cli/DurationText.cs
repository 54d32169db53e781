using System.Globalization;

namespace Microservices.Export.Cli;

/// <summary>Durations as people type them: "90s", "15m", "2h", "7d", "1h30m" (units in any order, each once at most).</summary>
internal static class DurationText
{
    /// <returns>The duration, or null with <paramref name="error"/> saying what is wrong.</returns>
    public static TimeSpan? Parse(string text, out string? error)
    {
        error = null;
        var total = TimeSpan.Zero;
        var seen = new HashSet<char>();
        var i = 0;
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }

            if (i == start || i == text.Length || !char.IsAsciiLetter(text[i]))
            {
                error = $"'{text}' is not a duration: write a number and a unit (s, m, h, d), e.g. 15m, 2h, 7d or 1h30m";
                return null;
            }

            var unit = text[i++];
            if (!long.TryParse(text.AsSpan(start, i - 1 - start), NumberStyles.None, CultureInfo.InvariantCulture, out var amount) || amount > 1_000_000)
            {
                error = $"'{text}' is too long a duration";
                return null;
            }

            TimeSpan? part = unit switch
            {
                's' => TimeSpan.FromSeconds(amount),
                'm' => TimeSpan.FromMinutes(amount),
                'h' => TimeSpan.FromHours(amount),
                'd' => TimeSpan.FromDays(amount),
                _ => null,
            };
            if (part is null)
            {
                error = $"'{text}' has unit '{unit}'; use s, m, h or d";
                return null;
            }

            if (!seen.Add(unit))
            {
                error = $"'{text}' names unit '{unit}' twice";
                return null;
            }

            total += part.Value;
        }

        if (total <= TimeSpan.Zero)
        {
            error = text.Length == 0 ? "the duration is empty: e.g. 15m, 2h, 7d" : $"'{text}' is not positive";
            return null;
        }

        return total;
    }
}
