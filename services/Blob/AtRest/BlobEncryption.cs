using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microservices.Blob.Streams;

namespace Microservices.Blob.AtRest;

/// <summary>
/// AES-256-GCM at rest with a fresh data key per blob, wrapped (AES-GCM too) by a master key.
/// Streamed in 64 KiB chunks so a blob of any size encrypts in bounded memory:
/// <code>
/// "BLOBENC1" | keyIdLength (1) | keyId | wrapNonce (12) | wrappedKey (32) | wrapTag (16) | noncePrefix (8)
/// chunk*: length (4, big-endian) | ciphertext | tag (16)
/// </code>
/// Chunk nonce = noncePrefix || chunk index; chunk AAD = index (8) || final flag (1). The last
/// chunk is an empty one flagged final, so truncation and reordering fail
/// authentication instead of yielding garbage.
/// </summary>
internal static class BlobEncryption
{
    public const int ChunkSize = 64 * 1024;
    private const int TagSize = 16;
    private static readonly byte[] Magic = "BLOBENC1"u8.ToArray();

    public static async Task EncryptAsync(Stream plain, Stream output, MasterKeyRing keys, CancellationToken cancellationToken)
    {
        var keyId = keys.ActiveKeyId ?? throw new BlobKeyException("a sensitive blob needs a master key, and none is configured (Blob:Encryption:Keys and Blob:Encryption:ActiveKeyId)");
        keys.TryGet(keyId, out var master);
        var dataKey = RandomNumberGenerator.GetBytes(32);
        var wrapNonce = RandomNumberGenerator.GetBytes(12);
        var wrapped = new byte[32];
        var wrapTag = new byte[TagSize];
        using (var wrap = new AesGcm(master, TagSize))
        {
            wrap.Encrypt(wrapNonce, dataKey, wrapped, wrapTag, WrapAad(keyId));
        }

        var noncePrefix = RandomNumberGenerator.GetBytes(8);
        var header = new MemoryStream();
        header.Write(Magic);
        var keyIdBytes = Encoding.ASCII.GetBytes(keyId);
        header.WriteByte((byte)keyIdBytes.Length);
        header.Write(keyIdBytes);
        header.Write(wrapNonce);
        header.Write(wrapped);
        header.Write(wrapTag);
        header.Write(noncePrefix);
        await output.WriteAsync(header.ToArray(), cancellationToken).ConfigureAwait(false);

        using var aes = new AesGcm(dataKey, TagSize);
        var plainChunk = new byte[ChunkSize];
        var cipherChunk = new byte[4 + ChunkSize + TagSize];
        long index = 0;
        while (true)
        {
            var filled = await plain.ReadAtLeastAsync(plainChunk, ChunkSize, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (filled > 0)
            {
                SealChunk(aes, noncePrefix, index++, final: false, plainChunk.AsSpan(0, filled), cipherChunk);
                await output.WriteAsync(cipherChunk.AsMemory(0, 4 + filled + TagSize), cancellationToken).ConfigureAwait(false);
            }

            if (filled < ChunkSize)
            {
                SealChunk(aes, noncePrefix, index, final: true, [], cipherChunk);
                await output.WriteAsync(cipherChunk.AsMemory(0, 4 + TagSize), cancellationToken).ConfigureAwait(false);
                break;
            }
        }

        CryptographicOperations.ZeroMemory(dataKey);
    }

    /// <summary>Reads the header of an encrypted blob and returns a stream of its plaintext.</summary>
    public static async Task<Stream> OpenDecryptAsync(Stream stored, MasterKeyRing keys, CancellationToken cancellationToken)
    {
        var fixedHead = new byte[Magic.Length + 1];
        await ReadExactAsync(stored, fixedHead, cancellationToken).ConfigureAwait(false);
        if (!fixedHead.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new BlobCorruptException("encrypted blob has no valid header");
        }

        var rest = new byte[fixedHead[^1] + 12 + 32 + TagSize + 8];
        await ReadExactAsync(stored, rest, cancellationToken).ConfigureAwait(false);
        var keyId = Encoding.ASCII.GetString(rest, 0, fixedHead[^1]);
        var at = fixedHead[^1];
        if (!keys.TryGet(keyId, out var master))
        {
            throw new BlobKeyException($"blob is encrypted with master key '{keyId}', which is not configured (Blob:Encryption:Keys:{keyId})");
        }

        var dataKey = new byte[32];
        try
        {
            using var unwrap = new AesGcm(master, TagSize);
            unwrap.Decrypt(rest.AsSpan(at, 12), rest.AsSpan(at + 12, 32), rest.AsSpan(at + 44, TagSize), dataKey, WrapAad(keyId));
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new BlobKeyException($"master key '{keyId}' does not decrypt this blob's data key: the configured key is wrong");
        }

        return new DecryptingStream(stored, new AesGcm(dataKey, TagSize), rest.AsSpan(at + 44 + TagSize, 8).ToArray());
    }

    public static string? ReadKeyId(ReadOnlySpan<byte> header) =>
        header.Length > Magic.Length && header.StartsWith(Magic) && header.Length >= Magic.Length + 1 + header[Magic.Length]
            ? Encoding.ASCII.GetString(header.Slice(Magic.Length + 1, header[Magic.Length]))
            : null;

    private static byte[] WrapAad(string keyId) => Encoding.ASCII.GetBytes("blob-data-key:" + keyId);

    private static void SealChunk(AesGcm aes, byte[] noncePrefix, long index, bool final, ReadOnlySpan<byte> plain, byte[] output)
    {
        Span<byte> nonce = stackalloc byte[12];
        Span<byte> aad = stackalloc byte[9];
        ChunkNonce(noncePrefix, index, nonce, aad, final);
        BinaryPrimitives.WriteInt32BigEndian(output, plain.Length);
        aes.Encrypt(nonce, plain, output.AsSpan(4, plain.Length), output.AsSpan(4 + plain.Length, TagSize), aad);
    }

    private static void ChunkNonce(byte[] prefix, long index, Span<byte> nonce, Span<byte> aad, bool final)
    {
        prefix.CopyTo(nonce);
        BinaryPrimitives.WriteUInt32BigEndian(nonce[8..], (uint)index);
        BinaryPrimitives.WriteInt64BigEndian(aad, index);
        aad[8] = final ? (byte)1 : (byte)0;
    }

    private static async Task ReadExactAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            await stream.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (EndOfStreamException)
        {
            throw new BlobCorruptException("encrypted blob is truncated");
        }
    }

    private sealed class DecryptingStream(Stream inner, AesGcm aes, byte[] noncePrefix) : AsyncReadOnlyStream
    {
        private readonly byte[] _cipher = new byte[ChunkSize + TagSize];
        private readonly byte[] _plain = new byte[ChunkSize];
        private int _plainStart;
        private int _plainEnd;
        private long _index;
        private bool _done;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (_plainStart == _plainEnd)
            {
                if (_done)
                {
                    return 0;
                }

                await NextChunkAsync(cancellationToken).ConfigureAwait(false);
            }

            var count = Math.Min(buffer.Length, _plainEnd - _plainStart);
            _plain.AsMemory(_plainStart, count).CopyTo(buffer);
            _plainStart += count;
            return count;
        }

        private async Task NextChunkAsync(CancellationToken cancellationToken)
        {
            var lengthBytes = new byte[4];
            await ReadExactAsync(inner, lengthBytes, cancellationToken).ConfigureAwait(false);
            var length = BinaryPrimitives.ReadInt32BigEndian(lengthBytes);
            if (length is < 0 or > ChunkSize)
            {
                throw new BlobCorruptException("encrypted blob has a malformed chunk");
            }

            var cipher = _cipher.AsMemory(0, length + TagSize);
            try
            {
                await inner.ReadExactlyAsync(cipher, cancellationToken).ConfigureAwait(false);
            }
            catch (EndOfStreamException)
            {
                throw new BlobCorruptException("encrypted blob is truncated");
            }

            var final = length == 0;
            Span<byte> nonce = stackalloc byte[12];
            Span<byte> aad = stackalloc byte[9];
            ChunkNonce(noncePrefix, _index++, nonce, aad, final);
            try
            {
                aes.Decrypt(nonce, _cipher.AsSpan(0, length), _cipher.AsSpan(length, TagSize), _plain.AsSpan(0, length), aad);
            }
            catch (AuthenticationTagMismatchException)
            {
                throw new BlobCorruptException($"encrypted blob chunk {_index - 1} fails authentication: the stored bytes were altered");
            }

            _plainStart = 0;
            _plainEnd = length;
            _done = final;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                aes.Dispose();
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            aes.Dispose();
            await inner.DisposeAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }

    }
}
