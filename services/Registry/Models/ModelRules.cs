using System.Text;

namespace Microservices.Registry.Models;

/// <summary>
/// The input rules every entry point shares (gRPC, import, CLI). Each failure names the field
/// and the rule. Whitespace is refused inside identifiers because model.list is
/// space-separated: anything the registry accepts can be exported back to that format.
/// </summary>
internal static class ModelRules
{
    public const int MaxOwnerLength = 128;
    public const int MaxModelIdLength = 512;
    public const int MaxAliasLength = 128;
    public const int MaxRepoOrBranchLength = 256;
    public const int MaxConfigPathLength = 1024;
    public const int MaxTags = 32;
    public const int MaxTagKeyLength = 64;
    public const int MaxTagValueLength = 256;

    public static string Owner(string? value) => Identifier("owner", value, MaxOwnerLength);

    public static string ModelId(string? value) => Identifier("model_id", value, MaxModelIdLength);

    public static string Alias(string? value) => Identifier("alias", value, MaxAliasLength);

    public static string AuthorRepo(string? value) => Identifier("author_repo", value, MaxRepoOrBranchLength);

    public static string Branch(string? value) => Identifier("branch", value, MaxRepoOrBranchLength);

    public static string ConfigPath(string? value) => Identifier("config_path", value, MaxConfigPathLength);

    /// <summary>List's id-or-alias prefix: the id rules, reported under its own name.</summary>
    public static string Prefix(string? value) => Identifier("prefix", value, MaxModelIdLength);

    /// <summary>Every field of a model to add (Register, ImportModels); a null alias stays null (generate one).</summary>
    public static NewModel NewModel(NewModel model) => new()
    {
        Owner = Owner(model.Owner),
        ModelId = ModelId(model.ModelId),
        SourceType = Defined(model.SourceType, "source_type"),
        AuthorRepo = AuthorRepo(model.AuthorRepo),
        Branch = Branch(model.Branch),
        ConfigPath = ConfigPath(model.ConfigPath),
        Alias = model.Alias is null ? null : Alias(model.Alias),
        Status = Defined(model.Status, "status"),
        Tags = Tags(model.Tags),
    };

    public static T Defined<T>(T value, string field)
        where T : struct, Enum =>
        Enum.IsDefined(value) ? value : throw RegistryException.InvalidArgument(field, $"unknown value {Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)}; expected one of {string.Join(", ", Enum.GetNames<T>())}");

    public static long? ExpectedVersion(long value, bool required)
    {
        if (value < 0 || (required && value == 0))
        {
            throw RegistryException.InvalidArgument(
                "expected_version", required ? "must be the model's current version (> 0)" : "must be 0 (don't check) or a version (> 0)");
        }

        return value == 0 ? null : value;
    }

    public static IReadOnlyDictionary<string, string> Tags(IReadOnlyDictionary<string, string>? tags)
    {
        if (tags is null || tags.Count == 0)
        {
            return RegisteredModel.EmptyTags;
        }

        if (tags.Count > MaxTags)
        {
            throw RegistryException.InvalidArgument("tags", $"at most {MaxTags} tags per model, got {tags.Count}");
        }

        var copy = new Dictionary<string, string>(tags.Count, StringComparer.Ordinal);
        foreach (var (key, value) in tags)
        {
            copy[TagKey(key)] = TagValue(key, value);
        }

        return copy;
    }

    public static string TagKey(string? key)
    {
        if (string.IsNullOrEmpty(key) || key.Length > MaxTagKeyLength || !key.All(IsTagKeyChar))
        {
            throw RegistryException.InvalidArgument("tags", $"a key must be 1..{MaxTagKeyLength} characters of [A-Za-z0-9._/-], got '{Printable(key)}'");
        }

        return key;
    }

    public static string TagValue(string key, string? value)
    {
        value ??= "";
        if (value.Length > MaxTagValueLength)
        {
            throw RegistryException.InvalidArgument($"tags[{key}]", $"a value must be at most {MaxTagValueLength} characters, got {value.Length}");
        }

        if (FirstBadChar(value, allowSpace: true) is { } bad)
        {
            throw RegistryException.InvalidArgument($"tags[{key}]", $"a value must not contain {bad}");
        }

        return value;
    }

    private static string Identifier(string field, string? value, int maxLength)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw RegistryException.InvalidArgument(field, "must not be empty");
        }

        if (value.Length > maxLength)
        {
            throw RegistryException.InvalidArgument(field, $"must be at most {maxLength} characters, got {value.Length}");
        }

        if (FirstBadChar(value, allowSpace: false) is { } bad)
        {
            throw RegistryException.InvalidArgument(field, $"must not contain {bad}");
        }

        return value;
    }

    /// <summary>Describes the first forbidden character, or null when the text is clean.</summary>
    private static string? FirstBadChar(string value, bool allowSpace)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsSurrogate(c))
            {
                if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                {
                    i++;
                    continue;
                }

                return $"an unpaired surrogate (position {i})";
            }

            if (char.IsControl(c) || c is '\u2028' or '\u2029' or '\uFEFF')
            {
                return $"control characters (U+{(int)c:X4} at position {i})";
            }

            if (!allowSpace && char.IsWhiteSpace(c))
            {
                return $"whitespace (U+{(int)c:X4} at position {i})";
            }
        }

        return null;
    }

    private static bool IsTagKeyChar(char c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '.' or '_' or '/' or '-';

    private static string Printable(string? value)
    {
        if (value is null)
        {
            return "";
        }

        var builder = new StringBuilder();
        foreach (var c in value.Length > 40 ? value[..40] : value)
        {
            builder.Append(char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString());
        }

        return builder.ToString();
    }
}
