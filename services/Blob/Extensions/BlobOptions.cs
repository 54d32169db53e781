using Microservices.Blob.Storage;

namespace Microservices.Blob.Extensions;

/// <summary>Section "Blob" (plus the root key DataDirectory that ./dev sets).</summary>
internal sealed class BlobOptions
{
    public const string Section = "Blob";

    /// <summary>Where the index, staging area, local objects and cache live.</summary>
    public string DataDirectory { get; set; } = "data/blob";

    public StorageSettings Storage { get; set; } = new();

    public IndexSettings Index { get; set; } = new();

    /// <summary>Derived, not bound: whether Stat's metadata goes through the two-level cache (see ReadOptions).</summary>
    internal bool MetadataCached { get; set; } = true;

    public CacheSettings Cache { get; set; } = new();

    public EncryptionSettings Encryption { get; set; } = new();

    public GcSettings Gc { get; set; } = new();

    public GatewaySettings Gateway { get; set; } = new();

    public LimitsSettings Limits { get; set; } = new();

    public sealed class LimitsSettings
    {
        /// <summary>Largest blob StartUpload, BatchUpload and trace offload accept; larger is RESOURCE_EXHAUSTED before anything is allocated.</summary>
        public long MaxBlobBytes { get; set; } = 4L << 30;

        /// <summary>Largest decoded data: URI payload offload takes out of a trace; a larger one stays inline (strict: RESOURCE_EXHAUSTED).</summary>
        public long MaxDataUriBytes { get; set; } = 32L << 20;

        /// <summary>Unfinished uploads one owner may have open at once (each holds a part file until it finishes or expires).</summary>
        public int MaxOpenUploadsPerOwner { get; set; } = 100;

        /// <summary>Original bytes one owner may hold (a blob shared with others counts for each); 0: no quota.</summary>
        public long OwnerQuotaBytes { get; set; }
    }

    public sealed class IndexSettings
    {
        /// <summary>"sqlite" (default: &lt;DataDirectory&gt;/index.db, one instance) or "postgres" (shared by every replica).</summary>
        public string Kind { get; set; } = "sqlite";

        /// <summary>Npgsql connection string, required for "postgres"; a secret (it may carry a password), never logged.</summary>
        public string? ConnectionString { get; set; }

        public bool IsPostgres => string.Equals(Kind, "postgres", StringComparison.OrdinalIgnoreCase);
    }

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

        /// <summary>Uploads are discarded this long after StartUpload, finished or not (part file, row, kept hash).</summary>
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
        /// Serve non-sensitive blobs to anyone who knows the digest. Off by default: a digest is a
        /// name, not a permission (anyone who once saw a trace, or guesses a well-known image,
        /// has it). Sensitive blobs are never served by digest alone.
        /// </summary>
        public bool AllowDigestOnly { get; set; }

        /// <summary>Base64 of at least 32 bytes: signs capability URLs (<see cref="Gateway.BlobCapability"/>). None: capability URLs are refused.</summary>
        public string? CapabilityKey { get; set; }

        /// <summary>
        /// How long a capability lasts. 30 days: a stored trace keeps rendering for as long as it
        /// is typically looked at, and a leaked URL stops working on its own.
        /// </summary>
        public TimeSpan CapabilityLifetime { get; set; } = TimeSpan.FromDays(30);
    }
}
