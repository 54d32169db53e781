using Microservices.Blob.Storage;
using Microservices.TestSupport;

namespace Microservices.Blob.Tests.Support;

/// <summary>
/// A real S3-compatible server (npm s3rver, installed in tests/Blob.Tests/s3rver) on a free port,
/// with a bucket, for the whole test class. Missing s3rver fails loudly with the install command.
/// </summary>
public sealed class S3rverFixture : IAsyncLifetime
{
    public const string Bucket = "blobs";
    private readonly TempDirectory _data = new();
    private ExternalProcess? _process;

    public int Port { get; private set; }

    internal S3StorageOptions Options(string prefix = "") => new()
    {
        ServiceUrl = $"http://127.0.0.1:{Port}",
        Bucket = Bucket,
        Prefix = prefix,
        AccessKey = "S3RVER",
        SecretKey = "S3RVER",
        ForcePathStyle = true,
        Compatibility = true,
        MultipartThreshold = 5 * 1024 * 1024,
        PartSize = 5 * 1024 * 1024,
    };

    public async Task InitializeAsync()
    {
        var folder = Path.Combine(RepositoryPaths.Root, "tests", "Blob.Tests", "s3rver");
        var script = Path.Combine(folder, "node_modules", "s3rver", "bin", "s3rver.js");
        await InstallOnceAsync(folder, script);
        Prerequisite.File(script, $"npm ci --prefix {folder}");
        var node = Prerequisite.Executable("node", "apt-get install -y nodejs (or install Node.js 18+)");
        Port = FreePort.Next();
        _process = ExternalProcess.Start(node, [script, "-d", _data.Path, "-a", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent", "--configure-bucket", Bucket]);
        await _process.WaitForPortAsync(Port, TimeSpan.FromSeconds(30));
    }

    private static readonly SemaphoreSlim InstallGate = new(1, 1);

    /// <summary>
    /// A fresh checkout has no node_modules: install the pinned s3rver (package-lock.json) with npm
    /// once. If npm is missing or fails, the Prerequisite check after it fails with the command.
    /// </summary>
    private static async Task InstallOnceAsync(string folder, string script)
    {
        await InstallGate.WaitAsync();
        try
        {
            if (File.Exists(script))
            {
                return;
            }

            var npm = Prerequisite.Executable("npm", $"apt-get install -y npm, then: npm ci --prefix {folder}");
            var (code, output) = await ExternalProcess.RunAsync(npm, ["ci", "--no-audit", "--no-fund", "--prefix", folder], TimeSpan.FromMinutes(3));
            if (code != 0)
            {
                throw new InvalidOperationException($"npm ci --prefix {folder} failed ({code}):\n{output}");
            }
        }
        finally
        {
            InstallGate.Release();
        }
    }

    public async Task DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        _data.Dispose();
    }
}
