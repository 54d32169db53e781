using System.Net;
using Amazon.S3;
using Amazon.S3.Model;
using Microservices.ObjectStorage;

namespace Microservices.Blob.Storage;

/// <summary>
/// Objects in an S3 bucket. Large objects go up as multipart uploads (aborted on failure, so no
/// part is ever visible as an object); small ones with one PutObject. S3 publishes an object
/// only when its upload completes, which gives the all-or-nothing put the interface requires.
/// </summary>
internal sealed class S3BlobStorage : IBlobStorage, IDisposable
{
    private readonly IAmazonS3 _s3;
    private readonly S3StorageOptions _options;

    public S3BlobStorage(S3StorageOptions options)
    {
        _options = options;
        _s3 = S3Clients.Create(options);
    }

    public string Kind => "s3";

    public async Task EnsureBucketAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _s3.PutBucketAsync(new PutBucketRequest { BucketName = _options.Bucket }, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception error) when (error.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
        {
        }
    }

    public async Task<bool> ExistsAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            await _s3.GetObjectMetadataAsync(_options.Bucket, ObjectKey(key), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (AmazonS3Exception error) when (error.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    public async Task PutFileAsync(string key, string sourcePath, CancellationToken cancellationToken)
    {
        var length = new FileInfo(sourcePath).Length;
        if (length >= _options.MultipartThreshold)
        {
            await PutMultipartAsync(ObjectKey(key), sourcePath, length, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var request = new PutObjectRequest { BucketName = _options.Bucket, Key = ObjectKey(key), FilePath = sourcePath }.ForServer(_options);

            await _s3.PutObjectAsync(request, cancellationToken).ConfigureAwait(false);
        }

        File.Delete(sourcePath);
    }

    private async Task PutMultipartAsync(string objectKey, string sourcePath, long length, CancellationToken cancellationToken)
    {
        var start = await _s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _options.Bucket, Key = objectKey }, cancellationToken).ConfigureAwait(false);
        try
        {
            var parts = new List<PartETag>();
            var partNumber = 1;
            for (long offset = 0; offset < length; offset += _options.PartSize, partNumber++)
            {
                var request = new UploadPartRequest
                {
                    BucketName = _options.Bucket,
                    Key = objectKey,
                    UploadId = start.UploadId,
                    PartNumber = partNumber,
                    FilePath = sourcePath,
                    FilePosition = offset,
                    PartSize = Math.Min(_options.PartSize, length - offset),
                }.ForServer(_options);

                var part = await _s3.UploadPartAsync(request, cancellationToken).ConfigureAwait(false);
                parts.Add(new PartETag(partNumber, part.ETag));
            }

            await _s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = _options.Bucket,
                Key = objectKey,
                UploadId = start.UploadId,
                PartETags = parts,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await _s3.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _options.Bucket, Key = objectKey, UploadId = start.UploadId }, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    public async Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _s3.GetObjectAsync(_options.Bucket, ObjectKey(key), cancellationToken).ConfigureAwait(false);
            return new ResponseOwningStream(response);
        }
        catch (AmazonS3Exception error) when (error.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var existed = await ExistsAsync(key, cancellationToken).ConfigureAwait(false);
        await _s3.DeleteObjectAsync(_options.Bucket, ObjectKey(key), cancellationToken).ConfigureAwait(false);
        return existed;
    }

    public void Dispose() => _s3.Dispose();

    private string ObjectKey(string key) => _options.Prefix + StorageKey.Validate(key);

    /// <summary>Disposes the GetObject response (and its connection) with the stream.</summary>
    private sealed class ResponseOwningStream(GetObjectResponse response) : Stream
    {
        private readonly Stream _inner = response.ResponseStream;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => response.ContentLength;

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _inner.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                response.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
