using System.Net;
using Amazon.S3;
using Amazon.S3.Model;
using Microservices.ObjectStorage;

namespace Microservices.Export.Storage;

internal sealed class S3ArchiveStorage : IArchiveStorage, IDisposable
{
    private readonly AmazonS3Client _s3;
    private readonly S3Options _options;

    /// <summary>Signs presigned links; the same client as <see cref="_s3"/> unless Export:S3:PublicServiceUrl is set.</summary>
    private readonly AmazonS3Client _presigner;
    private readonly S3Options _presignOptions;

    public S3ArchiveStorage(S3Options options)
    {
        _options = options;
        _s3 = S3Clients.Create(options);
        _presignOptions = string.IsNullOrWhiteSpace(options.PublicServiceUrl) ? options : options.ForPublicEndpoint();
        _presigner = ReferenceEquals(_presignOptions, options) ? _s3 : S3Clients.Create(_presignOptions);
    }

    private string Key(string key) => _options.Prefix + key;

    public async Task EnsureBucketAsync(CancellationToken cancellationToken)
    {
        if (!_options.CreateBucket)
        {
            return;
        }

        try
        {
            await _s3.PutBucketAsync(new PutBucketRequest { BucketName = _options.Bucket }, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception error) when (error.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
        {
        }
    }

    public async Task<string> StartUploadAsync(string key, CancellationToken cancellationToken)
    {
        var response = await _s3.InitiateMultipartUploadAsync(
            new InitiateMultipartUploadRequest { BucketName = _options.Bucket, Key = Key(key), ContentType = "application/gzip" },
            cancellationToken).ConfigureAwait(false);
        return response.UploadId;
    }

    public async Task<string> UploadPartAsync(string key, string uploadId, int partNumber, Stream content, long length, CancellationToken cancellationToken)
    {
        var request = new UploadPartRequest
        {
            BucketName = _options.Bucket,
            Key = Key(key),
            UploadId = uploadId,
            PartNumber = partNumber,
            InputStream = content,
            PartSize = length,
        }.ForServer(_options);

        var response = await _s3.UploadPartAsync(request, cancellationToken).ConfigureAwait(false);
        return response.ETag;
    }

    public Task CompleteUploadAsync(string key, string uploadId, IReadOnlyList<(int PartNumber, string ETag)> parts, CancellationToken cancellationToken) =>
        _s3.CompleteMultipartUploadAsync(
            new CompleteMultipartUploadRequest
            {
                BucketName = _options.Bucket,
                Key = Key(key),
                UploadId = uploadId,
                PartETags = [.. parts.Select(p => new PartETag(p.PartNumber, p.ETag))],
            },
            cancellationToken);

    public async Task<bool> AbortUploadAsync(string key, string uploadId, CancellationToken cancellationToken)
    {
        try
        {
            await _s3.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _options.Bucket, Key = Key(key), UploadId = uploadId }, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (AmazonS3Exception error) when (error.StatusCode == HttpStatusCode.NotFound)
        {
            return true;
        }
        catch (AmazonS3Exception error) when (error.StatusCode is HttpStatusCode.MethodNotAllowed or HttpStatusCode.NotImplemented)
        {
            // s3rver (the local test server) implements neither abort nor listing uploads.
            return false;
        }
    }

    public async Task<IReadOnlyList<PendingUpload>> ListUploadsAsync(string keyPrefix, CancellationToken cancellationToken)
    {
        var uploads = new List<PendingUpload>();
        var request = new ListMultipartUploadsRequest { BucketName = _options.Bucket, Prefix = Key(keyPrefix) };
        while (true)
        {
            ListMultipartUploadsResponse response;
            try
            {
                response = await _s3.ListMultipartUploadsAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (AmazonS3Exception error) when (error.StatusCode is HttpStatusCode.MethodNotAllowed or HttpStatusCode.NotImplemented)
            {
                throw new NotSupportedException($"The S3 server does not list multipart uploads ({error.ErrorCode}).", error);
            }

            uploads.AddRange((response.MultipartUploads ?? []).Select(u => new PendingUpload(u.Key[_options.Prefix.Length..], u.UploadId, u.Initiated ?? DateTime.UtcNow)));
            if (response.IsTruncated != true)
            {
                return uploads;
            }

            request.KeyMarker = response.NextKeyMarker;
            request.UploadIdMarker = response.NextUploadIdMarker;
        }
    }

    public async Task<IReadOnlyList<string>> ListOlderThanAsync(string keyPrefix, DateTimeOffset before, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        var request = new ListObjectsV2Request { BucketName = _options.Bucket, Prefix = Key(keyPrefix) };
        do
        {
            var response = await _s3.ListObjectsV2Async(request, cancellationToken).ConfigureAwait(false);
            keys.AddRange((response.S3Objects ?? []).Where(o => o.LastModified < before.UtcDateTime).Select(o => o.Key[_options.Prefix.Length..]));
            request.ContinuationToken = response.IsTruncated == true ? response.NextContinuationToken : null;
        }
        while (request.ContinuationToken is not null);
        return keys;
    }

    public async Task<long?> SizeAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var metadata = await _s3.GetObjectMetadataAsync(_options.Bucket, Key(key), cancellationToken).ConfigureAwait(false);
            return metadata.ContentLength;
        }
        catch (AmazonS3Exception error) when (error.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<Stream> OpenReadAsync(string key, long offset, CancellationToken cancellationToken)
    {
        var request = new GetObjectRequest { BucketName = _options.Bucket, Key = Key(key) };
        if (offset > 0)
        {
            request.ByteRange = new ByteRange($"bytes={offset}-");
        }

        var response = await _s3.GetObjectAsync(request, cancellationToken).ConfigureAwait(false);
        return new OwningStream(response.ResponseStream, response);
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        _s3.DeleteObjectAsync(_options.Bucket, Key(key), cancellationToken);

    public Task<string> PresignGetAsync(string key, TimeSpan lifetime) => _presigner.GetPreSignedURLAsync(new GetPreSignedUrlRequest
    {
        BucketName = _options.Bucket,
        Key = Key(key),
        Verb = HttpVerb.GET,
        Expires = DateTime.UtcNow.Add(lifetime),
        Protocol = _presignOptions.ServiceUrl?.StartsWith("http://", StringComparison.OrdinalIgnoreCase) == true ? Protocol.HTTP : Protocol.HTTPS,
    });

    public void Dispose()
    {
        _s3.Dispose();
        if (!ReferenceEquals(_presigner, _s3))
        {
            _presigner.Dispose();
        }
    }
}
