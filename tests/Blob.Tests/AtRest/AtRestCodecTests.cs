using System.Text;
using Microservices.Blob.AtRest;
using Microservices.Blob.Digests;
using Microservices.Blob.Index;
using Microservices.Blob.Tests.Support;
using Microservices.TestSupport;

namespace Microservices.Blob.Tests.AtRest;

public sealed class AtRestCodecTests : IDisposable
{
    private static readonly string KeyA = Convert.ToBase64String(TestData.Random(32, 100));
    private static readonly string KeyB = Convert.ToBase64String(TestData.Random(32, 200));
    private readonly TempDirectory _dir = new();

    private AtRestCodec Codec(Dictionary<string, string> keys, string? active = null) => new(new MasterKeyRing(keys, active), _dir.Path);

    private async Task<(AtRestCodec.Encoded Encoded, StoredObject Stored)> EncodeAsync(AtRestCodec codec, byte[] data, bool sensitive)
    {
        var path = _dir.File(Guid.NewGuid().ToString("N"));
        await File.WriteAllBytesAsync(path, data);
        var digest = BlobDigest.Of(data);
        var encoded = await codec.EncodeAsync(path, digest, sensitive, CancellationToken.None);
        return (encoded, new StoredObject("k", digest, encoded.StoredSize, encoded.Media.MediaType, 0, 0, encoded.Compression, encoded.KeyId, DateTimeOffset.UnixEpoch));
    }

    private static async Task<byte[]> DecodeAsync(AtRestCodec codec, string path, StoredObject stored)
    {
        await using var plain = await codec.DecodeAsync(File.OpenRead(path), stored, CancellationToken.None);
        using var copy = new MemoryStream();
        await plain.CopyToAsync(copy);
        return copy.ToArray();
    }

    [Fact]
    public async Task Json_is_stored_brotli_compressed_and_decodes_to_the_original()
    {
        var json = Encoding.UTF8.GetBytes("[" + string.Join(",", Enumerable.Range(0, 5000).Select(i => $"{{\"step\":{i},\"role\":\"assistant\"}}")) + "]");
        var codec = Codec([]);
        var (encoded, stored) = await EncodeAsync(codec, json, sensitive: false);
        Assert.Equal(StoredCompression.Brotli, encoded.Compression);
        Assert.True(encoded.StoredSize < json.Length / 5, $"stored {encoded.StoredSize} of {json.Length}");
        Assert.Equal(json, await DecodeAsync(codec, encoded.Path, stored));
    }

    [Fact]
    public async Task Png_is_stored_as_it_is()
    {
        var png = TestData.Png(64, 64);
        var codec = Codec([]);
        var (encoded, _) = await EncodeAsync(codec, png, sensitive: false);
        Assert.Equal(StoredCompression.None, encoded.Compression);
        Assert.Equal(png, await File.ReadAllBytesAsync(encoded.Path));
    }

    [Fact]
    public async Task Sensitive_blob_is_encrypted_with_a_key_id_and_decrypts_exactly()
    {
        var text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("secret prompt text. ", 20_000)));
        var codec = Codec(new() { ["k1"] = KeyA });
        var (encoded, stored) = await EncodeAsync(codec, text, sensitive: true);
        Assert.Equal("k1", encoded.KeyId);
        Assert.Equal(StoredCompression.Brotli, encoded.Compression);
        var raw = await File.ReadAllBytesAsync(encoded.Path);
        Assert.Equal(-1, raw.AsSpan().IndexOf("secret prompt"u8));
        Assert.Equal(text, await DecodeAsync(codec, encoded.Path, stored));
    }

    [Fact]
    public async Task Rotation_old_blobs_still_decrypt_with_their_key_id()
    {
        var data = TestData.Random(200_000);
        var (old, stored) = await EncodeAsync(Codec(new() { ["k1"] = KeyA }), data, sensitive: true);
        var rotated = Codec(new() { ["k1"] = KeyA, ["k2"] = KeyB }, active: "k2");
        Assert.Equal(data, await DecodeAsync(rotated, old.Path, stored));
        var (fresh, _) = await EncodeAsync(rotated, data, sensitive: true);
        Assert.Equal("k2", fresh.KeyId);
    }

    [Fact]
    public async Task Missing_key_is_a_clear_error()
    {
        var (encoded, stored) = await EncodeAsync(Codec(new() { ["k1"] = KeyA }), TestData.Random(1000), sensitive: true);
        var error = await Assert.ThrowsAsync<BlobKeyException>(() => DecodeAsync(Codec(new() { ["k2"] = KeyB }), encoded.Path, stored));
        Assert.Contains("'k1'", error.Message);
        Assert.Contains("not configured", error.Message);
    }

    [Fact]
    public async Task Wrong_key_is_a_clear_error_never_garbage()
    {
        var (encoded, stored) = await EncodeAsync(Codec(new() { ["k1"] = KeyA }), TestData.Random(1000), sensitive: true);
        var error = await Assert.ThrowsAsync<BlobKeyException>(() => DecodeAsync(Codec(new() { ["k1"] = KeyB }), encoded.Path, stored));
        Assert.Contains("wrong", error.Message);
    }

    [Fact]
    public async Task Sensitive_without_any_key_is_refused()
    {
        await Assert.ThrowsAsync<BlobKeyException>(() => EncodeAsync(Codec([]), TestData.Random(10), sensitive: true));
    }

    [Fact]
    public async Task Tampered_or_truncated_ciphertext_fails_authentication()
    {
        var codec = Codec(new() { ["k1"] = KeyA });
        var (encoded, stored) = await EncodeAsync(codec, TestData.Random(150_000), sensitive: true);
        var bytes = await File.ReadAllBytesAsync(encoded.Path);
        bytes[bytes.Length / 2] ^= 1;
        await File.WriteAllBytesAsync(encoded.Path, bytes);
        await Assert.ThrowsAsync<BlobCorruptException>(() => DecodeAsync(codec, encoded.Path, stored));

        var (second, stored2) = await EncodeAsync(codec, TestData.Random(150_000, 3), sensitive: true);
        var whole = await File.ReadAllBytesAsync(second.Path);
        await File.WriteAllBytesAsync(second.Path, whole[..^20]);
        await Assert.ThrowsAsync<BlobCorruptException>(() => DecodeAsync(codec, second.Path, stored2));
    }

    public void Dispose() => _dir.Dispose();
}
