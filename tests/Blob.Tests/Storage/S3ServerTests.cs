using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microservices.Blob.Tests.Support;
using Microservices.TestSupport;

namespace Microservices.Blob.Tests.Storage;

/// <summary>
/// TestSupport's S3Server as other test projects use it (the export service's restart S3 in the
/// middle of a multipart upload and hand out presigned links), over a plain AWSSDK.S3 client.
/// </summary>
public sealed class S3ServerTests : IAsyncLifetime
{
    private const int PartSize = 5 * 1024 * 1024;
    private S3Server _server = null!;
    private AmazonS3Client _s3 = null!;

    public async Task InitializeAsync()
    {
        _server = await S3Server.StartAsync("exports");
        // The settings S3StorageOptions.Compatibility stands for: AWSSDK.S3 v4 corrupts objects on s3rver without them.
        _s3 = new AmazonS3Client(new BasicAWSCredentials(S3Server.AccessKey, S3Server.SecretKey), new AmazonS3Config
        {
            ServiceURL = _server.ServiceUrl,
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });
    }

    public async Task DisposeAsync()
    {
        _s3?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Restart_keeps_the_port_the_objects_and_a_multipart_upload_in_progress()
    {
        var first = TestData.Random(PartSize, seed: 1);
        var second = TestData.Random(1000, seed: 2);
        await PutAsync("before.bin", second);
        var upload = await _s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _server.Bucket, Key = "archive.tar.gz" });
        var part1 = await UploadPartAsync(upload.UploadId, 1, first);
        var port = _server.Port;

        await _server.RestartAsync();

        Assert.Equal(port, _server.Port);
        Assert.Equal(second, await GetAsync("before.bin"));
        var part2 = await UploadPartAsync(upload.UploadId, 2, second);
        await _s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
        {
            BucketName = _server.Bucket,
            Key = "archive.tar.gz",
            UploadId = upload.UploadId,
            PartETags = [new PartETag(1, part1), new PartETag(2, part2)],
        });
        Assert.Equal(first.Concat(second).ToArray(), await GetAsync("archive.tar.gz"));
    }

    [Fact]
    public async Task Stopped_server_refuses_connections_until_restarted()
    {
        await PutAsync("x", [1, 2, 3]);
        await _server.StopAsync();
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => new HttpClient().GetAsync(_server.ServiceUrl));
        await _server.RestartAsync();
        Assert.Equal(new byte[] { 1, 2, 3 }, await GetAsync("x"));
    }

    [Fact]
    public async Task A_presigned_get_url_serves_the_object_until_it_expires()
    {
        var data = TestData.Random(4096, seed: 3);
        await PutAsync("export.tar.gz", data);
        using var http = new HttpClient();
        var url = await PresignAsync("export.tar.gz", TimeSpan.FromHours(1));
        Assert.Contains("X-Amz-Signature=", url);
        Assert.Equal(data, await http.GetByteArrayAsync(url));

        // s3rver checks a SigV4 link's date and expiry (not its signature: see S3Server).
        var shortLived = await PresignAsync("export.tar.gz", TimeSpan.FromSeconds(1));
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        using var expired = await http.GetAsync(shortLived);
        Assert.Equal(HttpStatusCode.Forbidden, expired.StatusCode);
        Assert.Contains("Request has expired", await expired.Content.ReadAsStringAsync());
    }

    private Task<string> PresignAsync(string key, TimeSpan lifetime) => _s3.GetPreSignedURLAsync(new GetPreSignedUrlRequest
    {
        BucketName = _server.Bucket,
        Key = key,
        Verb = HttpVerb.GET,
        Protocol = Protocol.HTTP,
        Expires = DateTime.UtcNow + lifetime,
    });

    private async Task PutAsync(string key, byte[] data)
    {
        using var content = new MemoryStream(data);
        await _s3.PutObjectAsync(new PutObjectRequest { BucketName = _server.Bucket, Key = key, InputStream = content, UseChunkEncoding = false });
    }

    private async Task<byte[]> GetAsync(string key)
    {
        using var response = await _s3.GetObjectAsync(_server.Bucket, key);
        using var output = new MemoryStream();
        await response.ResponseStream.CopyToAsync(output);
        return output.ToArray();
    }

    private async Task<string> UploadPartAsync(string uploadId, int number, byte[] data)
    {
        using var content = new MemoryStream(data);
        var response = await _s3.UploadPartAsync(new UploadPartRequest
        {
            BucketName = _server.Bucket,
            Key = "archive.tar.gz",
            UploadId = uploadId,
            PartNumber = number,
            InputStream = content,
            UseChunkEncoding = false,
        });
        return response.ETag;
    }
}
