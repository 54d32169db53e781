using System.Buffers;

namespace Microservices.ExportFormat;

public static partial class ArchiveLayout
{
    private const string PageExtension = ".jsonl";

    private const int PageDigits = 6;

    private const string DataFolder = "data/";

    private const int HashLength = 64;

    private static readonly SearchValues<char> LowerHex = SearchValues.Create("0123456789abcdef");

    /// <summary>True for exactly the names this layout writes; a reader refuses every other name.</summary>
    public static bool IsKnownName(string name) => KindOf(name) is not null;

    /// <summary>What an entry of this name holds, or null for a name the layout never writes.</summary>
    public static ArchiveEntryKind? KindOf(string name) => name switch
    {
        ManifestName => ArchiveEntryKind.Manifest,
        SignatureName => ArchiveEntryKind.Signature,
        _ when IsPage(name, "models/") => ArchiveEntryKind.Models,
        _ when IsPage(name, "blobs/") => ArchiveEntryKind.Blobs,
        _ when IsPage(name, "references/") => ArchiveEntryKind.References,
        _ when IsData(name) => ArchiveEntryKind.Data,
        _ => null,
    };

    /// <summary>
    /// The blob and chunk a data entry holds: <c>data/&lt;sha256&gt;</c> is chunk 0 of a one-entry
    /// blob, <c>data/&lt;sha256&gt;.000003</c> chunk 3 (the inverse of <see cref="Data"/>).
    /// </summary>
    /// <exception cref="ArgumentException">Not a data entry's name (<see cref="KindOf"/> is not Data).</exception>
    public static (string Sha256, int Chunk) ParseData(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!IsData(name))
        {
            throw new ArgumentException($"'{name}' is not a data entry's name.", nameof(name));
        }

        var hashEnd = DataFolder.Length + HashLength;
        return name.Length == hashEnd
            ? (name[DataFolder.Length..hashEnd], 0)
            : (name[DataFolder.Length..hashEnd], int.Parse(name.AsSpan(hashEnd + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture));
    }

    private static bool IsPage(string name, string folder) =>
        name.Length == folder.Length + PageDigits + PageExtension.Length
        && name.StartsWith(folder, StringComparison.Ordinal)
        && name.EndsWith(PageExtension, StringComparison.Ordinal)
        && IsDigits(name.AsSpan(folder.Length, PageDigits));

    private static bool IsData(string name)
    {
        if (!name.StartsWith(DataFolder, StringComparison.Ordinal) || name.Length < DataFolder.Length + HashLength)
        {
            return false;
        }

        var rest = name.AsSpan(DataFolder.Length);
        if (rest[..HashLength].ContainsAnyExcept(LowerHex))
        {
            return false;
        }

        var chunk = rest[HashLength..];
        return chunk.IsEmpty || (chunk.Length == 1 + PageDigits && chunk[0] == '.' && IsDigits(chunk[1..]));
    }

    private static bool IsDigits(ReadOnlySpan<char> text) => !text.ContainsAnyExceptInRange('0', '9');
}
