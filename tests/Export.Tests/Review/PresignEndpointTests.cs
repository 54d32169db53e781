using Microservices.Export.Storage;

namespace Microservices.Export.Tests.Review;

/// <summary>Export:S3:PublicServiceUrl: links are signed for the host clients reach, not the service's internal one.</summary>
public sealed class PresignEndpointTests
{
    [Theory]
    [InlineData(null, "http://s3.internal:9000/exports/prod/exports/o/x.tar.gz?")]
    [InlineData("https://s3.example.com", "https://s3.example.com/exports/prod/exports/o/x.tar.gz?")]
    public async Task A_presigned_link_names_the_public_endpoint_when_one_is_set(string? publicUrl, string expectedStart)
    {
        using var storage = new S3ArchiveStorage(new S3Options
        {
            ServiceUrl = "http://s3.internal:9000",
            PublicServiceUrl = publicUrl,
            AccessKey = "key",
            SecretKey = "secret",
            Bucket = "exports",
            Prefix = "prod/",
        });

        var url = await storage.PresignGetAsync("exports/o/x.tar.gz", TimeSpan.FromMinutes(15));

        Assert.StartsWith(expectedStart, url, StringComparison.Ordinal);
    }
}
