using System.Globalization;

namespace Microservices.TestSupport;

/// <summary>
/// A real S3-compatible server (npm s3rver 3.7.1, pinned in tests/TestSupport/s3rver) on a free
/// port, with one bucket, path-style addressing and s3rver's fixed credentials. Its data lives in a
/// directory of its own, so <see cref="RestartAsync"/> brings back the same port, objects and
/// buckets; multipart uploads in progress survive too (s3rver keeps them as files under
/// <c>&lt;bucket&gt;/._S3rver_uploads/&lt;upload id&gt;/</c>), and parts sent before a restart complete after it.
/// A missing s3rver is installed once with npm ci; missing node or npm fails with the install command.
/// </summary>
/// <remarks>
/// Where s3rver 3.7.1 is not S3 (checked with AWSSDK.S3 4; S3ServerTests pins what tests rely on):
/// ListMultipartUploads (GET ?uploads) answers 501 NotImplemented; ListParts and
/// AbortMultipartUpload answer 405 MethodNotAllowed, so an upload is never aborted and its parts
/// stay on disk; UploadPart to an unknown upload id succeeds and completing it is 500 InternalError
/// (S3: 404 NoSuchUpload). SigV4 (headers or a presigned query string) is parsed and its date and
/// X-Amz-Expires enforced (403 "Request has expired"), the access key must be S3RVER, but the
/// signature itself is never verified, and requests without any authentication are served too.
/// AWSSDK.S3 v4 needs UseChunkEncoding = false and checksums WHEN_REQUIRED against it.
/// </remarks>
public sealed class S3Server : IAsyncDisposable
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    private static readonly SemaphoreSlim InstallGate = new(1, 1);
    private static readonly string Folder = RepositoryPaths.File("tests", "TestSupport", "s3rver");
    private static readonly string Script = Path.Combine(Folder, "node_modules", "s3rver", "bin", "s3rver.js");
    private readonly TempDirectory _data = new();
    private ExternalProcess? _process;

    private S3Server(int port, string bucket)
    {
        Port = port;
        Bucket = bucket;
    }

    public int Port { get; }

    public string ServiceUrl => $"http://127.0.0.1:{Port}";

    /// <summary>Created at every start (--configure-bucket), kept with its objects if it already exists.</summary>
    public string Bucket { get; }

    public string DataDirectory => _data.Path;

    public static async Task<S3Server> StartAsync(string bucket = "test")
    {
        var server = new S3Server(FreePort.Next(), bucket);
        try
        {
            await server.RunAsync();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>Kills the server (no graceful shutdown: as a crash would) and starts it again on the same port and data.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        await RunAsync();
    }

    /// <summary>Kills the server; connections are refused until <see cref="RestartAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
            _process = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _data.Dispose();
    }

    private async Task RunAsync()
    {
        await InstallOnceAsync();
        Prerequisite.File(Script, $"npm ci --prefix {Folder}");
        var node = Prerequisite.Executable("node", "apt-get install -y nodejs (or install Node.js 18+)");
        _process = ExternalProcess.Start(node,
            [Script, "-d", _data.Path, "-a", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "--silent", "--configure-bucket", Bucket]);
        // s3rver configures its buckets before it listens: an open port means the bucket is there.
        await _process.WaitForPortAsync(Port, TimeSpan.FromSeconds(30));
    }

    /// <summary>
    /// A fresh checkout has no node_modules: install the pinned s3rver (package-lock.json) once per
    /// test run. If npm is missing or fails, the Prerequisite check after it names the command.
    /// </summary>
    private static async Task InstallOnceAsync()
    {
        await InstallGate.WaitAsync();
        try
        {
            if (File.Exists(Script))
            {
                return;
            }

            var npm = Prerequisite.Executable("npm", $"apt-get install -y npm, then: npm ci --prefix {Folder}");
            var (code, output) = await ExternalProcess.RunAsync(npm, ["ci", "--no-audit", "--no-fund", "--prefix", Folder], TimeSpan.FromMinutes(3));
            if (code != 0)
            {
                throw new InvalidOperationException($"npm ci --prefix {Folder} failed ({code}):\n{output}");
            }
        }
        finally
        {
            InstallGate.Release();
        }
    }
}
