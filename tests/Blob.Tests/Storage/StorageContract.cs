using Microservices.Blob.Storage;
using Microservices.Blob.Tests.Support;
using Microservices.TestSupport;

namespace Microservices.Blob.Tests.Storage;

/// <summary>One contract every storage backend passes (filesystem, S3 against s3rver).</summary>
public abstract class StorageContract : IDisposable
{
    private readonly TempDirectory _scratch = new();

    internal abstract IBlobStorage Storage { get; }

    private string Source(byte[] data)
    {
        var path = _scratch.File(Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(path, data);
        return path;
    }

    private static async Task<byte[]?> ReadAsync(IBlobStorage storage, string key)
    {
        await using var stream = await storage.OpenReadAsync(key, CancellationToken.None);
        if (stream is null)
        {
            return null;
        }

        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    [Fact]
    public async Task Put_then_read_returns_the_same_bytes_and_consumes_the_source()
    {
        var data = TestData.Random(100_000);
        var source = Source(data);
        var key = $"sha256/ab/cd/{TestData.Sha256Hex(data)}";
        await Storage.PutFileAsync(key, source, CancellationToken.None);
        Assert.False(File.Exists(source));
        Assert.True(await Storage.ExistsAsync(key, CancellationToken.None));
        Assert.Equal(data, await ReadAsync(Storage, key));
    }

    [Fact]
    public async Task Missing_object_reads_as_null_and_does_not_exist()
    {
        var key = "sha256/00/00/" + new string('0', 64);
        Assert.False(await Storage.ExistsAsync(key, CancellationToken.None));
        Assert.Null(await ReadAsync(Storage, key));
        Assert.False(await Storage.DeleteAsync(key, CancellationToken.None));
    }

    [Fact]
    public async Task Empty_object_round_trips()
    {
        var key = "sha256/e3/b0/" + TestData.Sha256Hex([]);
        await Storage.PutFileAsync(key, Source([]), CancellationToken.None);
        Assert.Equal(Array.Empty<byte>(), await ReadAsync(Storage, key));
    }

    [Fact]
    public async Task Large_object_round_trips()
    {
        // Above the S3 multipart threshold the fixture sets (5 MiB), so multipart is exercised.
        var data = TestData.Random(12 * 1024 * 1024 + 17, seed: 7);
        var key = "sha256/11/22/" + TestData.Sha256Hex(data);
        await Storage.PutFileAsync(key, Source(data), CancellationToken.None);
        Assert.Equal(data, await ReadAsync(Storage, key));
    }

    [Fact]
    public async Task Put_over_an_existing_object_replaces_it_whole()
    {
        var key = "sha256/33/44/" + new string('3', 64) + ".enc";
        await Storage.PutFileAsync(key, Source(TestData.Random(5000, 1)), CancellationToken.None);
        var second = TestData.Random(7000, 2);
        await Storage.PutFileAsync(key, Source(second), CancellationToken.None);
        Assert.Equal(second, await ReadAsync(Storage, key));
    }

    [Fact]
    public async Task Delete_removes_the_object()
    {
        var key = "sha256/55/66/" + new string('5', 64);
        await Storage.PutFileAsync(key, Source([1, 2, 3]), CancellationToken.None);
        Assert.True(await Storage.DeleteAsync(key, CancellationToken.None));
        Assert.False(await Storage.ExistsAsync(key, CancellationToken.None));
        Assert.Null(await ReadAsync(Storage, key));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("sha256/../../etc/passwd")]
    [InlineData("/absolute")]
    [InlineData("sha256//double")]
    [InlineData("UPPER/case")]
    [InlineData("sha256/ab/cd/x y")]
    public async Task Keys_that_could_leave_the_store_are_refused(string key)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Storage.ExistsAsync(key, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => Storage.PutFileAsync(key, Source([1]), CancellationToken.None));
    }

    public virtual void Dispose()
    {
        _scratch.Dispose();
        GC.SuppressFinalize(this);
    }
}

public sealed class FileSystemStorageTests : StorageContract
{
    private readonly TempDirectory _root = new();

    public FileSystemStorageTests()
    {
        Storage = new FileSystemBlobStorage(_root.Path);
    }

    internal override IBlobStorage Storage { get; }

    [Fact]
    public async Task Objects_fan_out_and_leave_no_temp_files()
    {
        var data = TestData.Random(1000);
        var hex = TestData.Sha256Hex(data);
        var source = Path.Combine(_root.Path, "..", "src-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllBytesAsync(source, data);
        await Storage.PutFileAsync($"sha256/{hex[..2]}/{hex[2..4]}/{hex}", source, CancellationToken.None);
        Assert.True(File.Exists(Path.Combine(_root.Path, "sha256", hex[..2], hex[2..4], hex)));
        Assert.Empty(Directory.EnumerateFiles(_root.Path, "*.tmp", SearchOption.AllDirectories));
    }

    public override void Dispose()
    {
        base.Dispose();
        _root.Dispose();
    }
}

public sealed class S3StorageTests : StorageContract, IClassFixture<S3rverFixture>
{
    public S3StorageTests(S3rverFixture s3)
    {
        Storage = new S3BlobStorage(s3.Options(prefix: $"t{Guid.NewGuid():N}/"));
    }

    internal override IBlobStorage Storage { get; }
}
