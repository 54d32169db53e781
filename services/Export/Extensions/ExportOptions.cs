namespace Microservices.Export.Extensions;

/// <summary>The Export section (appsettings.json; environment Export__Window=2.00:00:00 style).</summary>
internal sealed class ExportOptions
{
    public const string Section = "Export";

    /// <summary>This installation's name, written into every manifest.</summary>
    public string Installation { get; set; } = "local";

    /// <summary>A second export by one owner within this time of the last one is refused.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long a finished archive is kept; then it is deleted and its job expired.</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Default lifetime of a presigned download link.</summary>
    public TimeSpan DownloadUrlLifetime { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Jobs one replica runs at once.</summary>
    public int MaxConcurrentJobs { get; set; } = 2;

    /// <summary>A job's lease; its runner renews it every third of it, and a replica that dies loses it after this.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a replica looks for queued jobs and jobs whose runner died.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often expired archives and orphaned uploads are swept.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A multipart upload no job knows of is aborted once it is this old.</summary>
    public TimeSpan OrphanUploadAge { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Size of the first 1000 parts (at least S3's 5 MiB); each next 1000 parts double it, so 10,000 parts hold S3's 5 TiB.</summary>
    public int PartSize { get; set; } = 8 * 1024 * 1024;

    /// <summary>Parts uploading while the next one fills; memory is about (this + 1) parts.</summary>
    public int PartsInFlight { get; set; } = 2;

    /// <summary>How often a running job writes its progress.</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Open WatchExport plus WatchImport streams one owner may hold on one replica (each polls the job store).</summary>
    public int MaxWatchesPerOwner { get; set; } = 16;

    /// <summary>Redis key prefix of the job store.</summary>
    public string RedisPrefix { get; set; } = "export:";

    public SigningOptions Signing { get; set; } = new();

    public ImportOptions Import { get; set; } = new();

    /// <summary>Refuses, at start, settings the service cannot run with (rather than failing every job later).</summary>
    public void Validate()
    {
        Require(PartSize is >= 5 * 1024 * 1024 and <= 1024 * 1024 * 1024, $"Export:PartSize is {PartSize}; S3 parts (but the last) are at least 5 MiB (5242880), and at most 1 GiB is accepted here.");
        Require(PartsInFlight is >= 1 and <= 16, $"Export:PartsInFlight is {PartsInFlight}; it must be 1..16.");
        Require(MaxConcurrentJobs >= 1, $"Export:MaxConcurrentJobs is {MaxConcurrentJobs}; it must be at least 1.");
        Require(Lease >= TimeSpan.FromSeconds(1), $"Export:Lease is {Lease}; it must be at least 1 s (it is renewed every third of it).");
        Require(PollInterval > TimeSpan.Zero && ProgressInterval > TimeSpan.Zero && SweepInterval > TimeSpan.Zero, "Export:PollInterval, ProgressInterval and SweepInterval must be more than 0.");
        Require(Window >= TimeSpan.Zero && Lifetime > TimeSpan.Zero, "Export:Window must not be negative and Export:Lifetime must be more than 0.");
        Require(DownloadUrlLifetime > TimeSpan.Zero && DownloadUrlLifetime <= TimeSpan.FromDays(7), "Export:DownloadUrlLifetime must be more than 0 and at most 7 days (SigV4's limit).");
        Require(Import.MaxArchiveBytes > 0, "Export:Import:MaxArchiveBytes must be more than 0.");
        Require(MaxWatchesPerOwner >= 1, $"Export:MaxWatchesPerOwner is {MaxWatchesPerOwner}; it must be at least 1.");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException(message);
        }
    }
}

internal sealed class SigningOptions
{
    /// <summary>PEM (PKCS#8) private key; relative paths are under DataDirectory.</summary>
    public string KeyPath { get; set; } = "export-signing-key.pem";

    /// <summary>Make a new key at KeyPath when there is none (development; production mounts one).</summary>
    public bool CreateIfMissing { get; set; } = true;
}

internal sealed class ImportOptions
{
    /// <summary>Public keys (PEM text, or paths to PEM files) of installations whose archives are trusted. This installation's own key always is.</summary>
    public List<string> TrustedKeys { get; set; } = [];

    /// <summary>Refuse archives not signed by a trusted key.</summary>
    public bool RequireSignature { get; set; }

    /// <summary>Largest archive UploadArchive accepts or an import reads (compressed bytes).</summary>
    public long MaxArchiveBytes { get; set; } = 16L * 1024 * 1024 * 1024;

    /// <summary>How long an uploaded archive is kept for StartImport; then the sweeper deletes it.</summary>
    public TimeSpan UploadLifetime { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Accept archive_url with plain http (development; https otherwise).</summary>
    public bool AllowHttpUrls { get; set; }

    /// <summary>
    /// Hosts (as written in the URL) an archive_url may name even though they resolve to a loopback,
    /// private or link-local address, e.g. an in-cluster S3. Anything else must resolve to public addresses.
    /// </summary>
    public List<string> AllowedUrlHosts { get; set; } = [];

    /// <summary>Caps on what an archive may hold (entry size, total size, entry count, compression ratio).</summary>
    public Microservices.ExportFormat.ArchiveLimits Limits { get; set; } = new();
}
