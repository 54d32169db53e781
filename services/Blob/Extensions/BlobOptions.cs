using Microservices.Blob.Storage;

namespace Microservices.Blob.Extensions;

/// <summary>Section "Blob" (plus the root key DataDirectory that ./dev sets).</summary>
internal sealed class BlobOptions
{
    public const string Section = "Blob";

    /// <summary>Where the index, staging area, local objects and cache live.</summary>
    public string DataDirectory { get; set; } = "data/blob";

    public StorageSettings Storage { get; set; } = new();

    public CacheSettings Cache { get; set; } = new();

    public EncryptionSettings Encryption { get; set; } = new();

    public GcSettings Gc { get; set; } = new();

    public GatewaySettings Gateway { get; set; } = new();

    public sealed class StorageSettings
    {
        /// <summary>"filesystem" (default) or "s3".</summary>
        public string Kind { get; set; } = "filesystem";

        /// <summary>Filesystem root; default &lt;DataDirectory&gt;/objects.</summary>
        public string? Path { get; set; }

        public S3StorageOptions S3 { get; set; } = new();
    }

    public sealed class CacheSettings
    {
        /// <summary>Local byte cache in front of S3 (not used with the filesystem backend).</summary>
        public long MaxBytes { get; set; } = 1L << 30;

        /// <summary>Larger blobs bypass the cache.</summary>
        public long MaxEntryBytes { get; set; } = 64L << 20;

        /// <summary>Default &lt;DataDirectory&gt;/cache.</summary>
        public string? Path { get; set; }
    }

    public sealed class EncryptionSettings
    {
        /// <summary>Master keys by id: base64 of 32 bytes each.</summary>
        public Dictionary<string, string> Keys { get; set; } = new(StringComparer.Ordinal);

        /// <summary>The key new sensitive blobs are wrapped with (default: the only key).</summary>
        public string? ActiveKeyId { get; set; }
    }

    public sealed class GcSettings
    {
        public TimeSpan GracePeriod { get; set; } = TimeSpan.FromHours(24);

        public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(10);

        /// <summary>Uploads not finished within this are discarded.</summary>
        public TimeSpan UploadExpiry { get; set; } = TimeSpan.FromHours(24);
    }

    public sealed class GatewaySettings
    {
        /// <summary>HTTP/1.1 port of the image gateway; 0 turns it off.</summary>
        public int Port { get; set; } = 8081;

        /// <summary>Loopback by default; "*" or an address to listen elsewhere.</summary>
        public string Host { get; set; } = "127.0.0.1";

        /// <summary>Base URL written into offloaded traces.</summary>
        public string PublicUrl { get; set; } = "http://127.0.0.1:8081";

        /// <summary>
        /// Serve non-sensitive blobs without an X-Owner-Id header, to anyone who knows the digest
        /// (a 256-bit name only someone with the bytes or the trace can know); sensitive blobs
        /// always need the owner.
        /// </summary>
        public bool AnonymousNonSensitive { get; set; } = true;
    }
}
