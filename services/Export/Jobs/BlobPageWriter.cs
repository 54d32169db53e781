using Microservices.Export.Sources;
using Microservices.Export.Telemetry;
using Microservices.ExportFormat;
using Microsoft.Extensions.Logging;

namespace Microservices.Export.Jobs;

/// <summary>
/// Writes the bytes of a listed page of blobs: small ones read together in one BatchRead (calls grow
/// with batches, not blobs), larger ones a 4 MiB chunk (one entry) per ranged Download. After every
/// entry the cursor holds the blobs still to write, so a resume continues with exactly those.
/// </summary>
internal sealed class BlobPageWriter(IOwnerDataSource source, ExportMetrics metrics, ILogger<BlobPageWriter> logger)
{
    private const string Phase = "blob_data";

    public async Task WritePendingAsync(ArchiveWriteState state, CancellationToken cancellationToken)
    {
        // The next batch is read while this one is written, so the blob service and this writer
        // work at once instead of taking turns.
        Prefetch? next = null;
        try
        {
            while (state.Cursor.PendingBlobs.Count > 0)
            {
                var pending = state.Cursor.PendingBlobs;
                if (pending[0].Size > source.BatchReadBytes || state.Cursor.Chunk > 0)
                {
                    await WriteChunksAsync(state, pending[0], cancellationToken).ConfigureAwait(false);
                    continue;
                }

                var batch = SmallBatch(pending, 0);
                var reading = next is { } prefetched && prefetched.First == batch[0].Hash && prefetched.Count == batch.Count
                    ? prefetched.Read
                    : source.ReadBlobsAsync(state.Identity, batch, cancellationToken);
                next = null;
                var data = await reading.ConfigureAwait(false);
                if (batch.Count < pending.Count && pending[batch.Count].Size <= source.BatchReadBytes)
                {
                    var following = SmallBatch(pending, batch.Count);
                    next = new Prefetch(following[0].Hash, following.Count, source.ReadBlobsAsync(state.Identity, following, cancellationToken));
                }

                foreach (var blob in batch)
                {
                    if (data.TryGetValue(blob.Hash, out var content))
                    {
                        state.Write(ArchiveLayout.Data(blob.Hash, blob.Size, 0), content, blob.Compressed);
                        Written(state, blob.Size, blobDone: true);
                    }
                    else
                    {
                        Missing(state, blob);
                    }

                    await state.AfterEntryAsync(Rest(state.Cursor), Phase, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            if (next is not null)
            {
                await ((Task)next.Read).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private sealed record Prefetch(string First, int Count, Task<IReadOnlyDictionary<string, ReadOnlyMemory<byte>>> Read);

    /// <summary>The leading small blobs that fit in one BatchRead.</summary>
    private List<BlobItem> SmallBatch(IReadOnlyList<BlobItem> pending, int from)
    {
        var batch = new List<BlobItem>();
        long bytes = 0;
        foreach (var blob in pending.Skip(from))
        {
            if (blob.Size > source.BatchReadBytes || bytes + blob.Size > source.BatchReadBytes || batch.Count == 1000)
            {
                break;
            }

            batch.Add(blob);
            bytes += blob.Size;
        }

        return batch;
    }

    private async Task WriteChunksAsync(ArchiveWriteState state, BlobItem blob, CancellationToken cancellationToken)
    {
        var chunks = ArchiveLayout.ChunkCount(blob.Size);
        Task<ReadOnlyMemory<byte>?> ReadChunk(int chunk)
        {
            var offset = (long)chunk * ArchiveLayout.DataChunkSize;
            return source.ReadRangeAsync(state.Identity, blob, offset, (int)Math.Min(ArchiveLayout.DataChunkSize, blob.Size - offset), cancellationToken);
        }

        // The next chunk downloads while this one is written.
        var reading = ReadChunk(state.Cursor.Chunk);
        try
        {
            for (var chunk = state.Cursor.Chunk; chunk < chunks; chunk++)
            {
                var content = await reading.ConfigureAwait(false);
                reading = chunk + 1 < chunks ? ReadChunk(chunk + 1) : Task.FromResult<ReadOnlyMemory<byte>?>(null);
                if (content is null)
                {
                    Missing(state, blob);
                    await state.AfterEntryAsync(Rest(state.Cursor), Phase, cancellationToken).ConfigureAwait(false);
                    return;
                }

                state.Write(ArchiveLayout.Data(blob.Hash, blob.Size, chunk), content.Value, blob.Compressed);
                var last = chunk == chunks - 1;
                Written(state, content.Value.Length, blobDone: last);
                await state.AfterEntryAsync(last ? Rest(state.Cursor) : state.Cursor with { Chunk = chunk + 1 }, Phase, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await ((Task)reading).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>The cursor once the first pending blob is done.</summary>
    private static ExportCursor Rest(ExportCursor cursor) => cursor with { PendingBlobs = [.. cursor.PendingBlobs.Skip(1)], Chunk = 0 };

    private void Written(ArchiveWriteState state, long bytes, bool blobDone)
    {
        state.Tally = state.Tally with
        {
            BlobBytes = state.Tally.BlobBytes + bytes,
            BytesDone = state.Tally.BytesDone + bytes,
            ItemsDone = state.Tally.ItemsDone + (blobDone ? 1 : 0),
        };
        metrics.DataBytes(bytes);
        if (blobDone)
        {
            metrics.Items("blob", 1);
        }
    }

    /// <summary>
    /// Deleted after it was listed (its metadata line is in the archive already): the manifest says
    /// so, and an import leaves it out. A blob deleted between two of its chunks is listed too; the
    /// chunks already written stay in the archive and an import ignores them.
    /// </summary>
    private void Missing(ArchiveWriteState state, BlobItem blob)
    {
        logger.LogWarning("Blob {Hash} of export {JobId} was deleted while the export ran; the manifest lists it as missing", blob.Hash, state.Job.Record.Id);
        state.RecordMissing(blob.Hash);
        state.Tally = state.Tally with { ItemsDone = state.Tally.ItemsDone + 1 };
    }
}
