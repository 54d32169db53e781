using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Microservices.ObjectStorage;

public static class S3Clients
{
    public static AmazonS3Client Create(S3ConnectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            AuthenticationRegion = options.Region,
            MaxErrorRetry = options.MaxErrorRetry,
            RetryMode = RequestRetryMode.Standard,
        };
        if (!string.IsNullOrEmpty(options.ServiceUrl))
        {
            config.ServiceURL = options.ServiceUrl;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
        }

        if (options.Compatibility)
        {
            config.RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED;
            config.ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED;
        }

        return string.IsNullOrEmpty(options.AccessKey)
            ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);
    }

    /// <summary>Turns off aws-chunked encoding when the server needs it (<see cref="S3ConnectionOptions.Compatibility"/>).</summary>
    public static PutObjectRequest ForServer(this PutObjectRequest request, S3ConnectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (options?.Compatibility == true)
        {
            request.UseChunkEncoding = false;
        }

        return request;
    }

    /// <inheritdoc cref="ForServer(PutObjectRequest, S3ConnectionOptions)"/>
    public static UploadPartRequest ForServer(this UploadPartRequest request, S3ConnectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (options?.Compatibility == true)
        {
            request.UseChunkEncoding = false;
        }

        return request;
    }
}
