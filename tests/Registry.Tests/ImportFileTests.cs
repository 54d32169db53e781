using System.Text;
using Microservices.Registry.Changes;
using Microservices.Registry.Import;
using Microservices.Registry.Models;
using Microservices.Registry.Repositories;
using Microservices.TestSupport;

namespace Microservices.Registry.Tests;

/// <summary>The file-based import (the CLI's path): the original file is only ever read.</summary>
public sealed class ImportFileTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private SqliteModelStore _store = null!;
    private ModelRegistry _registry = null!;

    public async Task InitializeAsync()
    {
        _store = new SqliteModelStore(new SqliteStoreOptions { Path = _directory.File("registry.db") });
        await _store.InitializeAsync(default);
        _registry = new ModelRegistry(_store, new ModelChangeFeed(), TimeProvider.System);
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task The_model_list_file_is_never_modified_and_a_second_import_changes_nothing()
    {
        var path = _directory.File("model.list");
        var content = Encoding.UTF8.GetPreamble()
            .Concat(Encoding.UTF8.GetBytes("a local imported /m/a.yaml a RUNNING\r\nb cortexso/b 1b b.yaml b\r\n\r\nc r b c.yaml c READY extra\r\n"))
            .Concat(new byte[] { 0x00, 0xff, 0xfe, 0x0a })
            .ToArray();
        await File.WriteAllBytesAsync(path, content);
        var written = File.GetLastWriteTimeUtc(path);
        File.SetAttributes(path, FileAttributes.ReadOnly);

        var first = await _registry.ImportModelListFileAsync("alice", path, ImportMode.BestEffort, default);
        var second = await _registry.ImportModelListFileAsync("alice", path, ImportMode.BestEffort, default);

        Assert.Equal((true, 2, 0, 1), (first.Committed, first.Imported, first.Unchanged, first.BlankLines));
        Assert.Equal([4, 5], first.Errors.Select(e => e.LineNumber));
        Assert.Equal((0, 2), (second.Imported, second.Unchanged));
        Assert.Equal(content, await File.ReadAllBytesAsync(path));
        Assert.Equal(written, File.GetLastWriteTimeUtc(path));
        Assert.Equal([path], Directory.GetFiles(_directory.Path, "model.list*"));
        File.SetAttributes(path, FileAttributes.Normal);
    }

    [Fact]
    public async Task An_oversized_model_list_is_invalid_argument_and_imports_nothing()
    {
        var e = await Assert.ThrowsAsync<RegistryException>(() =>
            _registry.ImportModelListAsync("alice", new RepeatingStream("x r b c.yaml x READY\n"u8.ToArray(), ModelListParser.MaxBytes + 1), ImportMode.BestEffort, default));

        Assert.Equal(RegistryErrorKind.InvalidArgument, e.Kind);
        Assert.Contains("64 MiB", e.Message);
        Assert.Empty((await _registry.ListAsync("alice", new ModelQuery(), default)).Models);
    }

    [Fact]
    public async Task Unknown_import_mode_is_invalid_argument()
    {
        var e = await Assert.ThrowsAsync<RegistryException>(() => _registry.ImportModelListAsync("alice", new MemoryStream(), (ImportMode)5, default));
        Assert.StartsWith("mode:", e.Message);
    }

    /// <summary>A long stream without allocating it: the pattern repeated up to a length.</summary>
    private sealed class RepeatingStream(byte[] pattern, long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            for (var i = 0; i < n; i++)
            {
                buffer[offset + i] = pattern[(_position + i) % pattern.Length];
            }

            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
