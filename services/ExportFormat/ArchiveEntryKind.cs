namespace Microservices.ExportFormat;

/// <summary>What an entry holds, by its name (<see cref="ArchiveLayout.KindOf"/>).</summary>
public enum ArchiveEntryKind
{
    /// <summary><c>models/NNNNNN.jsonl</c></summary>
    Models,

    /// <summary><c>blobs/NNNNNN.jsonl</c>: blob metadata.</summary>
    Blobs,

    /// <summary><c>references/NNNNNN.jsonl</c></summary>
    References,

    /// <summary><c>data/&lt;sha256&gt;</c> or <c>data/&lt;sha256&gt;.NNNNNN</c>: blob bytes, or one chunk of them.</summary>
    Data,

    /// <summary><see cref="ArchiveLayout.ManifestName"/></summary>
    Manifest,

    /// <summary><see cref="ArchiveLayout.SignatureName"/></summary>
    Signature,
}
