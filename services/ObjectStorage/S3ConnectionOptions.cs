namespace Microservices.ObjectStorage;

/// <summary>Where an S3 bucket is and how to sign in; each service adds its bucket settings by deriving from this.</summary>
public class S3ConnectionOptions
{
    /// <summary>Endpoint of an S3-compatible server (e.g. http://127.0.0.1:4568); empty for AWS.</summary>
    public string? ServiceUrl { get; set; }

    public string Region { get; set; } = "us-east-1";

    public string? AccessKey { get; set; }

    public string? SecretKey { get; set; }

    public bool ForcePathStyle { get; set; } = true;

    /// <summary>
    /// For S3-compatible servers such as s3rver: AWSSDK.S3 v4 corrupts objects on them unless
    /// aws-chunked encoding is off and checksums are only computed and validated when required.
    /// Off for real S3.
    /// </summary>
    public bool Compatibility { get; set; }

    /// <summary>Attempts the SDK itself makes per request (standard retry mode).</summary>
    public int MaxErrorRetry { get; set; } = 3;
}
