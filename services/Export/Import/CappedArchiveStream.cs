using Grpc.Core;
using Microservices.Export.Jobs;
using Microservices.Export.Storage;

namespace Microservices.Export.Import;

/// <summary>
/// An archive fetched from a URL, refused once it passes Export:Import:MaxArchiveBytes: a server that
/// sends no Content-Length (chunked) would otherwise get past the cap.
/// </summary>
internal sealed class CappedArchiveStream(Stream inner, IDisposable response, long maxBytes) : OwningStream(inner, response)
{
    private long _read;

    public static ImportRefusedException TooLarge(long maxBytes) =>
        new(StatusCode.ResourceExhausted, $"The archive is larger than Export:Import:MaxArchiveBytes ({maxBytes} bytes).");

    protected override int Counted(int read)
    {
        _read += read;
        return _read > maxBytes ? throw TooLarge(maxBytes) : read;
    }
}
