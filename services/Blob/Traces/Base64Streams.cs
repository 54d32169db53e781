using System.Buffers;
using System.Buffers.Text;

namespace Microservices.Blob.Traces;

/// <summary>Standard base64 (with padding) of a stream, in bounded chunks.</summary>
internal static class Base64Streams
{
    public static async Task EncodeAsync(Stream content, Func<ReadOnlyMemory<byte>, ValueTask> write, CancellationToken cancellationToken)
    {
        const int ChunkBytes = 48 * 1024; // a multiple of 3: no padding until the very end
        var raw = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        var encoded = ArrayPool<byte>.Shared.Rent(ChunkBytes / 3 * 4 + 4);
        try
        {
            var filled = 0;
            while (true)
            {
                var read = await content.ReadAsync(raw.AsMemory(filled, ChunkBytes - filled), cancellationToken).ConfigureAwait(false);
                filled += read;
                if (filled == ChunkBytes || (read == 0 && filled > 0))
                {
                    Base64.EncodeToUtf8(raw.AsSpan(0, filled), encoded, out _, out var written, isFinalBlock: read == 0 || filled % 3 != 0);
                    await write(encoded.AsMemory(0, written)).ConfigureAwait(false);
                    filled = 0;
                }

                if (read == 0)
                {
                    return;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(raw);
            ArrayPool<byte>.Shared.Return(encoded);
        }
    }
}
