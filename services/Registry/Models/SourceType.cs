namespace Microservices.Registry.Models;

/// <summary>Where a model came from. Stored as its wire name (see <see cref="SourceTypes"/>).</summary>
internal enum SourceType
{
    HuggingFace,
    CortexSo,
    Local,
}

internal static class SourceTypes
{
    public static string ToStorage(this SourceType type) => type switch
    {
        SourceType.HuggingFace => "huggingface",
        SourceType.CortexSo => "cortex.so",
        SourceType.Local => "local",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown source type."),
    };

    public static SourceType FromStorage(string value) => value switch
    {
        "huggingface" => SourceType.HuggingFace,
        "cortex.so" => SourceType.CortexSo,
        "local" => SourceType.Local,
        _ => throw new InvalidDataException($"Unknown source_type '{value}' in the database."),
    };
}
