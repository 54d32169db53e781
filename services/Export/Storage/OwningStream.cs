namespace Microservices.Export.Storage;

/// <summary>
/// A forward-only read of a response's body that disposes the response with it: the SDK's and
/// HttpClient's responses hold the connection, which dropping the body alone does not return.
/// </summary>
internal class OwningStream(Stream inner, IDisposable owner) : Microservices.ExportFormat.ReadOnlyStream
{
    public override int Read(Span<byte> buffer) => Counted(inner.Read(buffer));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Counted(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

    /// <summary>Sees every read's byte count before the caller does (e.g. to enforce a cap).</summary>
    protected virtual int Counted(int read) => read;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            owner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        owner.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
