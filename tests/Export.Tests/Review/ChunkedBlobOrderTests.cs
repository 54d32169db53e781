using Google.Protobuf;
using Microservices.Blob.V1;
using Microservices.Export.Tests.BadInput;
using Microservices.Export.Tests.Format;
using Microservices.Export.Tests.Support;
using Microservices.Export.V1;
using Microservices.ExportFormat;

namespace Microservices.Export.Tests.Review;

/// <summary>
/// Signed archives whose large blob's chunks are out of order, interleaved, of the wrong size or cut
/// off: the verifier passes them (each entry matches the manifest), so the import must refuse them
/// itself, INVALID_ARGUMENT naming the entry, and write nothing.
/// </summary>
[Collection(nameof(ImportTargetFixture))]
public sealed class ChunkedBlobOrderTests(ImportTargetFixture fixture)
{
    private const int LastChunk = 1000;

    private static readonly byte[] First = Bytes(1);

    private static readonly byte[] Second = Bytes(2);

    private static readonly string A = TestArchive.Sha256(First);

    private static readonly string B = TestArchive.Sha256(Second);

    public static TheoryData<string, string> Cases => new()
    {
        { "out-of-order", $"entry 'data/{A}.000001' is chunk 1 of blob sha256:{A}, but chunk 0 is the next one" },
        { "interleaved", $"entry 'data/{B}.000000' starts another blob while blob sha256:{A} is incomplete: 1 of its 2 chunks were read" },
        { "short-last-chunk", $"entry 'data/{A}.000001' holds {LastChunk - 1} bytes; chunk 1 of 2 of blob sha256:{A} ({First.Length} bytes by its metadata) holds {LastChunk}" },
        { "ends-mid-blob", $"the archive ends while blob sha256:{A} is incomplete: 1 of its 2 chunks were read" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_chunked_blob_out_of_order_or_incomplete_fails_INVALID_ARGUMENT_and_writes_nothing(string broken, string problem)
    {
        var owner = $"chunks-{broken}";
        var data = broken switch
        {
            "out-of-order" => [Chunk(A, First, 1), Chunk(A, First, 0)],
            "interleaved" => [Chunk(A, First, 0), Chunk(B, Second, 0), Chunk(A, First, 1), Chunk(B, Second, 1)],
            "short-last-chunk" => [Chunk(A, First, 0), ($"data/{A}.000001", First[ArchiveLayout.DataChunkSize..^1])],
            "ends-mid-blob" => new List<(string, byte[])> { Chunk(A, First, 0) },
            _ => throw new ArgumentOutOfRangeException(nameof(broken), broken, null),
        };

        var job = await Archives.ImportAsync(fixture.System, owner, Build(data));

        Archives.AssertFailed(job, "INVALID_ARGUMENT", problem);
        (await OwnerSnapshot.TakeAsync(fixture.System, owner)).AssertEmpty();
    }

    /// <summary>The same blobs in order import whole: what the cases refuse is only the order and sizes.</summary>
    [Fact]
    public async Task Chunked_blobs_in_order_import_and_the_job_reports_its_timing()
    {
        const string owner = "chunks-in-order";

        var job = await Archives.ImportAsync(fixture.System, owner, Build([Chunk(A, First, 0), Chunk(A, First, 1), Chunk(B, Second, 0), Chunk(B, Second, 1)]));

        Assert.True(job.State == JobState.Completed, job.Error?.Message);
        Assert.Equal(2, job.Report.BlobsUploaded);
        Assert.Empty(await OwnerSnapshot.MissingAsync(fixture.System, owner, [Digest(A, First), Digest(B, Second)]));
        Assert.NotNull(job.StartedAt);
        Assert.InRange(job.StartedAt.ToDateTimeOffset(), job.CreatedAt.ToDateTimeOffset(), job.FinishedAt.ToDateTimeOffset());
        Assert.NotNull(job.Duration);
        Assert.True(job.Duration.ToTimeSpan() > TimeSpan.Zero);
        Assert.True(job.PeakMemoryBytes > 0);
    }

    private byte[] Build(IReadOnlyList<(string Name, byte[] Data)> data) => new TestArchive(fixture.OriginKey)
    {
        Entries = [fixture.Entries[0], (ArchiveLayout.BlobsPage(0), BlobLines()), .. data],
        EditManifest = m => m with { Owner = ImportTargetFixture.Origin, Counts = new ArchiveCounts(ImportTargetFixture.Models, 2, 0, First.Length + Second.Length) },
    }.Build();

    private static byte[] BlobLines() => System.Text.Encoding.UTF8.GetBytes(string.Concat(
        new[] { Digest(A, First), Digest(B, Second) }.Select(d => JsonFormatter.Default.Format(new BlobInfo { Digest = d }) + "\n")));

    private static Digest Digest(string hash, byte[] data) => new() { Hash = hash, SizeBytes = data.Length };

    private static (string Name, byte[] Data) Chunk(string hash, byte[] blob, int chunk)
    {
        var start = chunk * ArchiveLayout.DataChunkSize;
        return (ArchiveLayout.Data(hash, blob.Length, chunk), blob[start..Math.Min(blob.Length, start + ArchiveLayout.DataChunkSize)]);
    }

    private static byte[] Bytes(int seed)
    {
        var data = new byte[ArchiveLayout.DataChunkSize + LastChunk];
        new Random(seed).NextBytes(data);
        return data;
    }
}
