using System.IO.Compression;
using Microservices.Blob.Digests;
using Microservices.Blob.Index;

namespace Microservices.Blob.AtRest;

/// <summary>
/// Turns verified original bytes into their at-rest form and back: Brotli for media that
/// compresses (kept only if it saves at least 10%), as-is for already-compressed formats,
/// then AES-256-GCM for sensitive blobs. The digest always names the original bytes.
/// </summary>
internal sealed class AtRestCodec(MasterKeyRing keys, string scratchDirectory)
{
    private const double MinimumSaving = 0.10;

    public MasterKeyRing Keys => keys;

    public sealed record Encoded(string Path, long StoredSize, MediaInfo Media, StoredCompression Compression, string? KeyId);

    /// <summary>Encodes the file at <paramref name="originalPath"/>; the result is a file the caller hands to storage.</summary>
    public async Task<Encoded> EncodeAsync(string originalPath, BlobDigest digest, bool sensitive, CancellationToken cancellationToken)
    {
        if (sensitive && keys.ActiveKeyId is null)
        {
            throw new BlobKeyException("a sensitive blob needs a master key, and none is configured (Blob:Encryption:Keys and Blob:Encryption:ActiveKeyId)");
        }

        var media = await SniffAsync(originalPath, cancellationToken).ConfigureAwait(false);
        var current = originalPath;
        var compression = StoredCompression.None;
        if (media.IsCompressible && !media.IsAlreadyCompressed && digest.Size > 64)
        {
            var compressed = Scratch();
            await using (var source = OpenRead(originalPath))
            await using (var target = new FileStream(compressed, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            await using (var brotli = new BrotliStream(target, CompressionLevel.Fastest))
            {
                await source.CopyToAsync(brotli, cancellationToken).ConfigureAwait(false);
            }

            if (new FileInfo(compressed).Length <= digest.Size * (1 - MinimumSaving))
            {
                current = compressed;
                compression = StoredCompression.Brotli;
            }
            else
            {
                File.Delete(compressed);
            }
        }

        string? keyId = null;
        if (sensitive)
        {
            var encrypted = Scratch();
            await using (var source = OpenRead(current))
            await using (var target = new FileStream(encrypted, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await BlobEncryption.EncryptAsync(source, target, keys, cancellationToken).ConfigureAwait(false);
            }

            if (current != originalPath)
            {
                File.Delete(current);
            }

            current = encrypted;
            keyId = keys.ActiveKeyId;
        }

        return new Encoded(current, new FileInfo(current).Length, media, compression, keyId);
    }

    /// <summary>The original bytes of a stored object, from its at-rest stream (which the result owns).</summary>
    public async Task<Stream> DecodeAsync(Stream stored, StoredObject storedObject, CancellationToken cancellationToken)
    {
        var plain = storedObject.Encrypted ? await BlobEncryption.OpenDecryptAsync(stored, keys, cancellationToken).ConfigureAwait(false) : stored;
        return storedObject.Compression == StoredCompression.Brotli ? new BrotliStream(plain, CompressionMode.Decompress) : plain;
    }

    public static async Task<MediaInfo> SniffAsync(string path, CancellationToken cancellationToken)
    {
        var prefix = new byte[MediaSniffer.PrefixLength];
        await using var stream = OpenRead(path);
        var read = await stream.ReadAtLeastAsync(prefix, prefix.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        return MediaSniffer.Sniff(prefix.AsSpan(0, read));
    }

    private static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);

    private string Scratch() => Path.Combine(scratchDirectory, $"{Guid.NewGuid():N}.encode");
}
