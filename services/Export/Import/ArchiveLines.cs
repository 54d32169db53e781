using Google.Protobuf;
using Microservices.Blob.V1;

namespace Microservices.Export.Import;

/// <summary>Reads what an archive's JSON lines say (the contract's protobuf JSON).</summary>
internal static class ArchiveLines
{
    private static readonly JsonParser Json = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    public static ImportBlob Blob(string line)
    {
        var info = Json.Parse<BlobInfo>(line);
        return new ImportBlob(info.Digest?.Hash ?? "", info.Digest?.SizeBytes ?? 0, info.Encrypted, info.Labels);
    }

    public static Reference Reference(string line) => Json.Parse<Reference>(line);
}
