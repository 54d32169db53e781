using Microservices.Blob.Storage;
using Microservices.TestSupport;

namespace Microservices.Blob.Tests.Support;

/// <summary>TestSupport's <see cref="S3Server"/> with the blob service's bucket, for the whole test class.</summary>
public sealed class S3rverFixture : IAsyncLifetime
{
    public const string Bucket = "blobs";

    public S3Server Server { get; private set; } = null!;

    /// <summary>The blob service's S3 settings for this server (S3StorageOptions is Blob's own type, so it stays here).</summary>
    internal S3StorageOptions Options(string prefix = "") => new()
    {
        ServiceUrl = Server.ServiceUrl,
        Bucket = Server.Bucket,
        Prefix = prefix,
        AccessKey = S3Server.AccessKey,
        SecretKey = S3Server.SecretKey,
        ForcePathStyle = true,
        Compatibility = true,
        MultipartThreshold = 5 * 1024 * 1024,
        PartSize = 5 * 1024 * 1024,
    };

    public async Task InitializeAsync() => Server = await S3Server.StartAsync(Bucket);

    public async Task DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }
}
