namespace Microservices.Export.Storage;

/// <summary>Export:S3 settings: the connection (ServiceUrl, Region, keys, Compatibility...) and the bucket archives are written to.</summary>
internal sealed class S3Options : Microservices.ObjectStorage.S3ConnectionOptions
{
    public string Bucket { get; set; } = "exports";

    /// <summary>Key prefix inside the bucket, e.g. "prod/".</summary>
    public string Prefix { get; set; } = "";

    /// <summary>Create the bucket at startup when it is missing (local servers).</summary>
    public bool CreateBucket { get; set; }

    /// <summary>
    /// The endpoint clients reach S3 by, when it is not <see cref="Microservices.ObjectStorage.S3ConnectionOptions.ServiceUrl"/>
    /// (e.g. the service talks to an in-cluster address): presigned links are signed for this host.
    /// </summary>
    public string? PublicServiceUrl { get; set; }

    /// <summary>These settings with <see cref="PublicServiceUrl"/> as the endpoint.</summary>
    public S3Options ForPublicEndpoint() => new()
    {
        ServiceUrl = PublicServiceUrl,
        Region = Region,
        AccessKey = AccessKey,
        SecretKey = SecretKey,
        ForcePathStyle = ForcePathStyle,
        Compatibility = Compatibility,
        MaxErrorRetry = MaxErrorRetry,
        Bucket = Bucket,
        Prefix = Prefix,
        CreateBucket = CreateBucket,
    };
}
