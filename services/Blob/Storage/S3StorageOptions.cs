namespace Microservices.Blob.Storage;

/// <summary>Blob:Storage:S3 settings.</summary>
internal sealed class S3StorageOptions : Microservices.ObjectStorage.S3ConnectionOptions
{
    public string Bucket { get; set; } = "blobs";

    /// <summary>Key prefix inside the bucket, e.g. "prod/"; objects go under it.</summary>
    public string Prefix { get; set; } = "";

    /// <summary>Create the bucket at startup if it is missing.</summary>
    public bool CreateBucket { get; set; }

    /// <summary>Objects at least this large go up as multipart uploads.</summary>
    public long MultipartThreshold { get; set; } = 16 * 1024 * 1024;

    public long PartSize { get; set; } = 16 * 1024 * 1024;
}
