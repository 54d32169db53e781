namespace Microservices.Blob.Storage;

/// <summary>
/// Where stored objects live: one implementation per backend (filesystem, S3). Keys are relative,
/// '/'-separated names built by the service (<see cref="StorageKey"/>), never client input. An
/// object is either fully there or absent: <see cref="PutFileAsync"/> publishes atomically.
/// </summary>
internal interface IBlobStorage
{
    /// <summary>"filesystem" or "s3".</summary>
    string Kind { get; }

    Task<bool> ExistsAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// Stores the local file's bytes under <paramref name="key"/> and consumes the file (moved or
    /// deleted). Readers see the old state or the whole new object, never part of it.
    /// </summary>
    Task PutFileAsync(string key, string sourcePath, CancellationToken cancellationToken);

    /// <summary>The object's bytes from the start, or null if it does not exist.</summary>
    Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken);

    /// <summary>Removes the object; false if it was not there.</summary>
    Task<bool> DeleteAsync(string key, CancellationToken cancellationToken);
}
