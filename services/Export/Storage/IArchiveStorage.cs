namespace Microservices.Export.Storage;

/// <summary>An upload that was started and neither completed nor aborted.</summary>
internal sealed record PendingUpload(string Key, string UploadId, DateTimeOffset Initiated);

/// <summary>Where archives live: an S3 bucket (multipart uploads, presigned links, ranged reads).</summary>
internal interface IArchiveStorage
{
    Task EnsureBucketAsync(CancellationToken cancellationToken);

    Task<string> StartUploadAsync(string key, CancellationToken cancellationToken);

    /// <summary>Uploads one part (1..10000) from a seekable stream; returns its ETag.</summary>
    Task<string> UploadPartAsync(string key, string uploadId, int partNumber, Stream content, long length, CancellationToken cancellationToken);

    Task CompleteUploadAsync(string key, string uploadId, IReadOnlyList<(int PartNumber, string ETag)> parts, CancellationToken cancellationToken);

    /// <summary>Aborts an upload (an upload already gone is not an error); false when the server cannot abort.</summary>
    Task<bool> AbortUploadAsync(string key, string uploadId, CancellationToken cancellationToken);

    /// <exception cref="NotSupportedException">The server cannot list uploads.</exception>
    Task<IReadOnlyList<PendingUpload>> ListUploadsAsync(string keyPrefix, CancellationToken cancellationToken);

    /// <summary>Keys under <paramref name="keyPrefix"/> last written before <paramref name="before"/>.</summary>
    Task<IReadOnlyList<string>> ListOlderThanAsync(string keyPrefix, DateTimeOffset before, CancellationToken cancellationToken);

    /// <summary>The object's size, or null when it does not exist.</summary>
    Task<long?> SizeAsync(string key, CancellationToken cancellationToken);

    /// <summary>The object's bytes from <paramref name="offset"/> as a stream.</summary>
    Task<Stream> OpenReadAsync(string key, long offset, CancellationToken cancellationToken);

    Task DeleteAsync(string key, CancellationToken cancellationToken);

    /// <summary>A presigned GET URL (SigV4, query string) valid for <paramref name="lifetime"/>.</summary>
    Task<string> PresignGetAsync(string key, TimeSpan lifetime);
}
