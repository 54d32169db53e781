using System.Text;

namespace Microservices.Registry.Repositories;

/// <summary>
/// Turns "starts with P" into the range P ≤ x &lt; successor(P), which a B-tree index serves
/// (LIKE would need case-sensitive LIKE settings and escaping). Both stores compare text by
/// code point (SQLite BINARY, PostgreSQL COLLATE "C"), so the successor increments the last
/// code point.
/// </summary>
internal static class PrefixRange
{
    /// <summary>The exclusive upper bound, or null when no string above P shares the prefix bound.</summary>
    public static string? UpperBound(string prefix)
    {
        var runes = prefix.EnumerateRunes().ToList();
        while (runes.Count > 0)
        {
            var last = runes[^1].Value;
            runes.RemoveAt(runes.Count - 1);
            if (last == 0x10FFFF)
            {
                continue;
            }

            var next = last + 1 == 0xD800 ? 0xE000 : last + 1;
            runes.Add(new Rune(next));
            var builder = new StringBuilder();
            foreach (var rune in runes)
            {
                builder.Append(rune.ToString());
            }

            return builder.ToString();
        }

        return null;
    }
}
