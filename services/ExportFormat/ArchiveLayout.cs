using System.Globalization;

namespace Microservices.ExportFormat;

/// <summary>
/// Entry names inside an export archive. Everything sits under fixed top-level folders so an
/// importer can refuse any other name before it reads a byte of it.
/// </summary>
public static partial class ArchiveLayout
{
    /// <summary>The format this code writes; an importer refuses anything newer.</summary>
    public const int FormatVersion = 1;

    public const string FormatName = "microservices-export";

    /// <summary>The last two entries: the manifest, and its signature over the manifest's exact bytes.</summary>
    public const string ManifestName = "manifest.json";

    public const string SignatureName = "manifest.sig";

    /// <summary>
    /// Blob bytes larger than this go into several entries, so no entry is larger than what a part
    /// buffer holds and every S3 part can end on an entry boundary.
    /// </summary>
    public const int DataChunkSize = 4 * 1024 * 1024;

    public static string ModelsPage(int page) => $"models/{page.ToString("D6", CultureInfo.InvariantCulture)}.jsonl";

    public static string BlobsPage(int page) => $"blobs/{page.ToString("D6", CultureInfo.InvariantCulture)}.jsonl";

    public static string ReferencesPage(int page) => $"references/{page.ToString("D6", CultureInfo.InvariantCulture)}.jsonl";

    /// <summary><c>data/&lt;sha256&gt;</c> for a blob in one entry; <c>data/&lt;sha256&gt;.000001</c>... for chunk n of a larger one.</summary>
    public static string Data(string sha256, long blobSize, int chunk) => blobSize <= DataChunkSize
        ? $"data/{sha256}"
        : $"data/{sha256}.{chunk.ToString("D6", CultureInfo.InvariantCulture)}";

    public static int ChunkCount(long blobSize) => blobSize <= DataChunkSize ? 1 : (int)((blobSize + DataChunkSize - 1) / DataChunkSize);
}
