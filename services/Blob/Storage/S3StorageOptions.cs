namespace Microservices.Blob.Storage;

/// <summary>Blob:Storage:S3 settings.</summary>
internal sealed class S3StorageOptions
{
    /// <summary>Endpoint for S3-compatible servers (e.g. http://127.0.0.1:4568); empty for AWS.</summary>
    public string? ServiceUrl { get; set; }

    public string Region { get; set; } = "us-east-1";

    public string Bucket { get; set; } = "blobs";

    /// <summary>Key prefix inside the bucket, e.g. "prod/"; objects go under it.</summary>
    public string Prefix { get; set; } = "";

    public string? AccessKey { get; set; }

    public string? SecretKey { get; set; }

    public bool ForcePathStyle { get; set; } = true;

    /// <summary>
    /// For S3-compatible servers such as s3rver: AWSSDK.S3 v4 corrupts objects on them unless
    /// chunked (aws-chunked) encoding is off and checksums are computed/validated only when
    /// required. Off for real S3.
    /// </summary>
    public bool Compatibility { get; set; }

    /// <summary>Create the bucket at startup if it is missing.</summary>
    public bool CreateBucket { get; set; }

    /// <summary>Objects at least this large go up as multipart uploads.</summary>
    public long MultipartThreshold { get; set; } = 16 * 1024 * 1024;

    public long PartSize { get; set; } = 16 * 1024 * 1024;
}
