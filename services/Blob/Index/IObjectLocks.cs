namespace Microservices.Blob.Index;

/// <summary>
/// The locks the domain needs, as wide as the index is shared: a put of an object and the
/// collector's delete of the same object never interleave, and one collection round runs at a
/// time. Each index backend brings its own (in-process for SQLite, advisory locks for PostgreSQL),
/// so the lock always spans exactly the replicas that share the rows it protects.
/// </summary>
internal interface IObjectLocks
{
    /// <summary>Waits for the object key's lock; held until the result is disposed.</summary>
    Task<IAsyncDisposable> AcquireAsync(string objectKey, CancellationToken cancellationToken);

    /// <summary>The right to run a collection round, or null at once when another holder runs one.</summary>
    Task<IAsyncDisposable?> TryAcquireCollectorAsync(CancellationToken cancellationToken);
}
