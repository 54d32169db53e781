using System.Globalization;
using System.Text;

namespace Microservices.ExportFormat;

/// <summary>
/// The names a reader accepts. The layout's shapes alone would refuse every unsafe name, but a
/// person fixing an archive needs to hear why ('..', an absolute path), so the generic path rules
/// come first and the shape check last.
/// </summary>
internal static class EntryNameRules
{
    public const int MaxLength = 256;

    private const int MaxQuotedLength = 300;

    private const string Shapes =
        "models/NNNNNN.jsonl, blobs/NNNNNN.jsonl, references/NNNNNN.jsonl, data/<sha256> or data/<sha256>.NNNNNN (lowercase hex), manifest.json, manifest.sig";

    /// <summary>Why <paramref name="name"/> may not be an entry's name, or null when it may.</summary>
    public static string? Problem(string name)
    {
        if (name.Length == 0)
        {
            return "it is empty";
        }

        if (name.Length > MaxLength)
        {
            return $"it is {name.Length} characters long; at most {MaxLength} are allowed";
        }

        foreach (var c in name)
        {
            if (char.IsControl(c))
            {
                return $"it contains the control character U+{(int)c:X4}";
            }
        }

        if (name.Contains('\\'))
        {
            return "'\\' is not allowed (names are '/'-separated)";
        }

        if (name[0] == '/')
        {
            return "it is absolute (starts with '/')";
        }

        foreach (var segment in name.Split('/'))
        {
            switch (segment)
            {
                case "":
                    return "it has an empty segment ('//' or a trailing '/')";
                case ".":
                    return "'.' is not allowed";
                case "..":
                    return "'..' is not allowed";
            }
        }

        return ArchiveLayout.IsKnownName(name) ? null : $"it is not a name this format uses ({Shapes})";
    }

    /// <summary>The name in quotes, fit for a message: control characters escaped, very long names cut.</summary>
    public static string Quote(string name)
    {
        var quoted = new StringBuilder("'");
        foreach (var c in name.Length > MaxQuotedLength ? name[..MaxQuotedLength] : name)
        {
            if (char.IsControl(c))
            {
                quoted.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            }
            else
            {
                quoted.Append(c);
            }
        }

        quoted.Append('\'');
        if (name.Length > MaxQuotedLength)
        {
            quoted.Append(CultureInfo.InvariantCulture, $"... ({name.Length} characters)");
        }

        return quoted.ToString();
    }
}
