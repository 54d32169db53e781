using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Microservices.Blob.V1;
using Microservices.Bench;
using Microservices.BlobBench;
using Microservices.Clients;

// Mode used as the memory baseline: read the whole trace into memory, as a naive tool would.
if (args is ["readall", var wholeTrace])
{
    var all = await File.ReadAllBytesAsync(wholeTrace);
    Console.WriteLine($"read {all.Length} bytes, {all.Count(b => b == (byte)'\n')} lines");
    return 0;
}

var work = Environment.GetEnvironmentVariable("WORK") ?? throw new InvalidOperationException("WORK not set");
var service = Environment.GetEnvironmentVariable("SERVICE_DLL")!;
var cli = Environment.GetEnvironmentVariable("CLI_DLL")!;
var self = typeof(TraceGenerator).Assembly.Location;
var sizeMiB = Int("SIZE_MIB", 1024);
var images = Int("IMAGES", 400);
var distinct = Int("DISTINCT", 80);
Directory.CreateDirectory(work);
var inv = CultureInfo.InvariantCulture;

static int Int(string name, int fallback) => int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : fallback;
static void Say(string text) => Console.Error.WriteLine($"[bench/blob] {text}");
static string Mb(double bytes) => (bytes / 1048576.0).ToString("F1", CultureInfo.InvariantCulture);

// 1. A blob of SIZE_MIB random bytes, and the baseline: sha256sum then cp of the same file.
var blobPath = Path.Combine(work, "blob.bin");
if (!File.Exists(blobPath) || new FileInfo(blobPath).Length != (long)sizeMiB << 20)
{
    Say($"generating {sizeMiB} MiB of random bytes");
    await using var file = File.Create(blobPath);
    var chunk = new byte[1 << 20];
    var random = new Random(1);
    for (var i = 0; i < sizeMiB; i++)
    {
        random.NextBytes(chunk);
        await file.WriteAsync(chunk);
    }
}

var size = new FileInfo(blobPath).Length;
var copyPath = Path.Combine(work, "blob.copy");
Say("baseline: sha256sum + cp");
var sha = await ProcessWatch.RunAsync("sha256sum", blobPath);
var cp = await ProcessWatch.RunAsync("cp", blobPath, copyPath);
File.Delete(copyPath);
var expectedHash = sha.Output.Split(' ')[0];
var baseline = (sha.Elapsed + cp.Elapsed).TotalSeconds;

// 2. The service as a process on free ports, data on the same disk.
var port = FreePort();
var dataDir = Path.Combine(work, "data");
if (Directory.Exists(dataDir))
{
    Directory.Delete(dataDir, recursive: true);
}

var serverInfo = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
serverInfo.ArgumentList.Add(service);
serverInfo.Environment["DataDirectory"] = dataDir;
serverInfo.Environment["Kestrel__Endpoints__grpc__Url"] = $"http://127.0.0.1:{port}";
serverInfo.Environment["Kestrel__Endpoints__grpc__Protocols"] = "Http2";
serverInfo.Environment["Blob__Gateway__Port"] = FreePort().ToString(inv);
serverInfo.Environment["Blob__Gateway__CapabilityKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
serverInfo.Environment["Logging__LogLevel__Default"] = "Warning";
serverInfo.Environment["Redis__ConnectionString"] = "";
// The service wants a bearer token; this run's own HS256 key, and one token (subject "bench") for every call.
var benchKey = RandomNumberGenerator.GetBytes(32);
serverInfo.Environment["Auth__Issuer"] = BenchToken.Issuer;
serverInfo.Environment["Auth__Audience"] = BenchToken.Audience;
serverInfo.Environment["Auth__HmacKey"] = Convert.ToBase64String(benchKey);
var benchToken = BenchToken.Mint(benchKey, "bench", TimeSpan.FromHours(6));
var tokenFile = Path.Combine(work, "bench.token");
await File.WriteAllTextAsync(tokenFile, benchToken);
using var server = Process.Start(serverInfo)!;
server.OutputDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"[server] {e.Data}"); };
server.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"[server] {e.Data}"); };
server.BeginOutputReadLine();
server.BeginErrorReadLine();
try
{
    await PortWait.UntilListeningAsync(server, "blob service", port, TimeSpan.FromSeconds(30), () => "(its output is above, marked [server])");
    await using var watch = new ProcessWatch(server.Id);
    using var channel = GrpcChannels.Create($"http://127.0.0.1:{port}");
    var client = new BlobService.BlobServiceClient(channel);
    var options = new CallOptions(headers: BearerToken.Headers(benchToken));

    // 3. Upload: hash on the client (it must name the digest), then a resumable upload in 1 MiB chunks.
    Say($"upload {Mb(size)} MiB over gRPC");
    watch.ResetWindow();
    var clock = Stopwatch.StartNew();
    string hash;
    using (var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
    await using (var source = new FileStream(blobPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan))
    {
        var buffer = new byte[1 << 20];
        int read;
        while ((read = await source.ReadAsync(buffer)) > 0)
        {
            sha256.AppendData(buffer, 0, read);
        }

        hash = Convert.ToHexStringLower(sha256.GetHashAndReset());
    }

    var digest = new Digest { Hash = hash, SizeBytes = size };
    var start = await client.StartUploadAsync(new StartUploadRequest { Digest = digest }, options);
    UploadStatus done;
    await using (var source = new FileStream(blobPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan))
    {
        using var call = client.Upload(options);
        var buffer = new byte[1 << 20];
        long offset = 0;
        int read;
        while ((read = await source.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false)) > 0)
        {
            await call.RequestStream.WriteAsync(new UploadRequest { UploadId = offset == 0 ? start.UploadId : "", WriteOffset = offset, Data = ByteString.CopyFrom(buffer, 0, read), Finish = offset + read == size });
            offset += read;
        }

        await call.RequestStream.CompleteAsync();
        done = await call.ResponseAsync;
    }

    var upload = clock.Elapsed.TotalSeconds;
    var uploadRss = watch.WindowPeakRss;
    if (!done.Complete || hash != expectedHash)
    {
        throw new InvalidOperationException($"upload incomplete or digest differs from sha256sum ({hash} vs {expectedHash})");
    }

    // 4. Download into a file, checking the digest as the bytes arrive (what blobctl get does).
    Say("download over gRPC");
    watch.ResetWindow();
    clock.Restart();
    string downloadedHash;
    await using (var target = new FileStream(copyPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
    using (var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
    {
        using var call = client.Download(new DownloadRequest { Digest = digest }, options);
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            var data = call.ResponseStream.Current.Data;
            sha256.AppendData(data.Span);
            await target.WriteAsync(data.Memory);
        }

        downloadedHash = Convert.ToHexStringLower(sha256.GetHashAndReset());
    }

    var download = clock.Elapsed.TotalSeconds;
    var downloadRss = watch.WindowPeakRss;
    File.Delete(copyPath);
    if (downloadedHash != hash)
    {
        throw new InvalidOperationException("downloaded bytes differ");
    }

    // 5. Trace offload with blobctl (client-side: only missing blobs cross the wire).
    var tracePath = Path.Combine(work, "trace.md");
    Say($"generating a trace: {images} images from {distinct} distinct");
    TraceGenerator.Write(tracePath, images, distinct);
    var traceBytes = new FileInfo(tracePath).Length;
    var address = $"http://127.0.0.1:{port}";
    Say($"offload {Mb(traceBytes)} MiB trace with blobctl");
    var first = await TimedAsync("dotnet", cli, "--address", address, "--token-file", tokenFile, "offload", tracePath, "--trace-id", "bench", "-o", tracePath + ".slim");
    var slimBytes = new FileInfo(tracePath + ".slim").Length;
    var second = await TimedAsync("dotnet", cli, "--address", address, "--token-file", tokenFile, "offload", tracePath, "--trace-id", "bench", "-o", tracePath + ".slim2");
    var readAll = await TimedAsync("dotnet", self, "readall", tracePath);
    Say("hydrate check");
    await TimedAsync("dotnet", cli, "--address", address, "--token-file", tokenFile, "hydrate", tracePath + ".slim", "-o", tracePath + ".back");
    var roundTrip = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(tracePath))) == Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(tracePath + ".back")));
    if (!roundTrip)
    {
        throw new InvalidOperationException("hydrate(offload(trace)) differs from the trace");
    }

    var uploadedFirst = Uploaded(first.Output);
    var reupload = Uploaded(second.Output);
    var reduction = 1 - (double)slimBytes / traceBytes;
    var offloadMbps = traceBytes / 1048576.0 / first.Elapsed.TotalSeconds;
    var memRatio = (double)first.PeakRss / readAll.PeakRss;

    Console.WriteLine($"| case | seconds | MiB/s | vs baseline | server peak RSS MiB |");
    Console.WriteLine($"|---|---|---|---|---|");
    Console.WriteLine(string.Create(inv, $"| sha256sum + cp ({Mb(size)} MiB) | {baseline:F2} (sha256sum {sha.Elapsed.TotalSeconds:F2}, cp {cp.Elapsed.TotalSeconds:F2}) | {size / 1048576.0 / baseline:F0} | 1.00 | |"));
    Console.WriteLine(string.Create(inv, $"| upload over gRPC (client hash + stream + server verify, fsync, rename) | {upload:F2} | {size / 1048576.0 / upload:F0} | {baseline / upload:F2} | {Mb(uploadRss)} |"));
    Console.WriteLine(string.Create(inv, $"| download over gRPC (stream + client verify + write) | {download:F2} | {size / 1048576.0 / download:F0} | {baseline / download:F2} | {Mb(downloadRss)} |"));
    Console.WriteLine();
    Console.WriteLine(string.Create(inv, $"trace: {Mb(traceBytes)} MiB, {images} images from {distinct} distinct -> slim {slimBytes / 1024.0:F1} KiB (reduction {reduction:F4}); first offload {first.Elapsed.TotalSeconds:F2} s ({offloadMbps:F1} MiB/s), uploaded {Mb(uploadedFirst)} MiB; second offload {second.Elapsed.TotalSeconds:F2} s, uploaded {reupload} bytes"));
    Console.WriteLine(string.Create(inv, $"peak RSS: blobctl offload {Mb(first.PeakRss)} MiB vs reading the whole trace {Mb(readAll.PeakRss)} MiB (ratio {memRatio:F2}); hydrate round trip identical: {roundTrip}"));
    Console.WriteLine(string.Create(inv,
        $"baseline_s={baseline:F2} upload_s={upload:F2} download_s={download:F2} upload_vs_baseline={baseline / upload:F2} download_vs_baseline={baseline / download:F2} server_rss_upload_mib={Mb(uploadRss)} server_rss_download_mib={Mb(downloadRss)} trace_mib={Mb(traceBytes)} offload_reduction={reduction:F4} offload_mib_s={offloadMbps:F1} offload_mem_ratio={memRatio:F2} reupload_bytes={reupload}"));
    return 0;
}
finally
{
    server.Kill(entireProcessTree: true);
    await server.WaitForExitAsync();
}

static async Task<(string Output, TimeSpan Elapsed, long PeakRss)> TimedAsync(string file, params string[] args)
{
    // GNU time reports the exact peak RSS of the child (rusage), not a sample.
    var run = await ProcessWatch.RunAsync("/usr/bin/time", ["-f", "maxrss_kb=%M", file, .. args]);
    if (run.ExitCode != 0)
    {
        throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed:\n{run.Output}");
    }

    var line = run.Output.Split('\n').Last(l => l.StartsWith("maxrss_kb=", StringComparison.Ordinal));
    return (run.Output, run.Elapsed, long.Parse(line["maxrss_kb=".Length..], CultureInfo.InvariantCulture) * 1024);
}

static long Uploaded(string output)
{
    var at = output.IndexOf("uploaded ", StringComparison.Ordinal);
    return long.Parse(output[(at + 9)..].Split(' ')[0], CultureInfo.InvariantCulture);
}

static int FreePort()
{
    using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
    listener.Start();
    return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
}
