using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Microservices.Blob.V1;
using Microservices.Clients;
using Microservices.Export.V1;
using Microservices.ExportBench;
using Microservices.Registry.V1;

var inv = CultureInfo.InvariantCulture;
var work = Path.GetFullPath(Setting("WORK"));
var sizeMiB = Int("SIZE_MIB", 1024);
var bigMiB = Int("BIG_MIB", 4096);
var items = Int("ITEMS", 1000);
var pids = Path.Combine(work, "pids");
var logs = Path.Combine(work, "logs");
Directory.CreateDirectory(logs);
const string Bucket = "exports";

string Setting(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : throw new InvalidOperationException($"{name} is not set (bench/export/run sets it)");
int Int(string name, int fallback) => int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, inv, out var v) ? v : fallback;
static void Say(string text) => Console.Error.WriteLine($"[bench/export {DateTime.UtcNow:HH:mm:ss}] {text}");
static string Mib(double bytes) => (bytes / 1048576.0).ToString("F1", CultureInfo.InvariantCulture);
static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

string Dir(string name)
{
    var path = Path.Combine(work, name);
    Directory.CreateDirectory(path);
    return path;
}

var processes = new List<ServiceProcess>();
async Task<ServiceProcess> StartAsync(string name, int port, string file, string[] args, Dictionary<string, string> environment)
{
    Say($"starting {name} on 127.0.0.1:{port}");
    var process = ServiceProcess.Start(name, file, args, environment, Path.Combine(logs, name + ".log"), pids);
    processes.Add(process);
    await process.WaitForPortAsync(port, TimeSpan.FromSeconds(90));
    return process;
}

// Kestrel's per-request line is off by default (services/Hosting); this provider rule turns it on,
// so each process's stdout says which calls it served.
const string RequestLog = "Logging__Console__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics";
var dotnet = "dotnet";
var auth = new BenchAuth(Dir("auth"));
try
{
    var redisPort = FreePort();
    await StartAsync("redis", redisPort, Setting("REDIS_SERVER"),
        ["--bind", "127.0.0.1", "--port", redisPort.ToString(inv), "--save", "", "--appendonly", "no", "--dir", Dir("redis")], []);
    var s3Port = FreePort();
    var s3Url = $"http://127.0.0.1:{s3Port}";
    var s3rver = await StartAsync("s3rver", s3Port, "node",
        [Setting("S3RVER_JS"), "-d", Dir("s3"), "-a", "127.0.0.1", "-p", s3Port.ToString(inv), "--silent", "--configure-bucket", Bucket], []);

    var registryPort = FreePort();
    var registry = await StartAsync("registry", registryPort, dotnet, [Setting("REGISTRY_DLL")], new Dictionary<string, string>
    {
        ["DataDirectory"] = Dir("registry"),
        ["Redis__ConnectionString"] = "",
        ["Kestrel__Endpoints__Grpc__Url"] = $"http://127.0.0.1:{registryPort}",
        [RequestLog] = "Information",
    }.Concat(auth.Service()).ToDictionary());
    var blobPort = FreePort();
    var blob = await StartAsync("blob", blobPort, dotnet, [Setting("BLOB_DLL")], new Dictionary<string, string>
    {
        ["DataDirectory"] = Dir("blob"),
        ["Redis__ConnectionString"] = "",
        ["Kestrel__Endpoints__Grpc__Url"] = $"http://127.0.0.1:{blobPort}",
        ["Blob__Gateway__Port"] = FreePort().ToString(inv),
        ["Blob__Gateway__CapabilityKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
        [RequestLog] = "Information",
    }.Concat(auth.Service()).ToDictionary());

    using var registryChannel = GrpcChannels.Create($"http://127.0.0.1:{registryPort}");
    using var blobChannel = GrpcChannels.Create($"http://127.0.0.1:{blobPort}");
    var registryClient = new ModelRegistry.ModelRegistryClient(registryChannel);
    var blobClient = new BlobService.BlobServiceClient(blobChannel);
    var seeder = new Seeder(blobClient, registryClient, auth);
    var aws = new AwsCli(Setting("AWS"), s3Url, Bucket, work);

    ServiceProcess? export = null;
    var exportPort = 0;
    async Task<ServiceProcess> RestartExportAsync()
    {
        if (export is not null)
        {
            processes.Remove(export);
            await export.DisposeAsync();
        }

        exportPort = FreePort();
        export = await StartAsync("export", exportPort, dotnet, [Setting("EXPORT_DLL")], new Dictionary<string, string>
        {
            ["DataDirectory"] = Dir("export"),
            ["Redis__ConnectionString"] = $"127.0.0.1:{redisPort}",
            ["Kestrel__Endpoints__Grpc__Url"] = $"http://127.0.0.1:{exportPort}",
            ["Clients__Registry__Address"] = $"http://127.0.0.1:{registryPort}",
            ["Clients__Blob__Address"] = $"http://127.0.0.1:{blobPort}",
            ["Export__S3__ServiceUrl"] = s3Url,
            ["Export__Window"] = "00:00:00",
        }.Concat(auth.Export()).Concat(ExportRuntimeSettings()).ToDictionary());
        return export;
    }

    // Each marker is a call the export never makes; once its own request line is read, every line
    // logged before it has been read too (one console logger queue per process).
    async Task DrainRequestLogsAsync()
    {
        const string blobMarker = "microservices.blob.v1.BlobService/Stat";
        const string registryMarker = "microservices.registry.v1.ModelRegistry/Get";
        var (b, r) = (blob.RequestsOf(blobMarker), registry.RequestsOf(registryMarker));
        try
        {
            await blobClient.StatAsync(new StatRequest { Digest = new Digest { Hash = new string('0', 64), SizeBytes = 1 } }, auth.Headers("bench-marker"));
        }
        catch (RpcException error) when (error.StatusCode == StatusCode.NotFound)
        {
        }

        try
        {
            await registryClient.GetAsync(new GetModelRequest { Alias = "none" }, auth.Headers("bench-marker"));
        }
        catch (RpcException error) when (error.StatusCode == StatusCode.NotFound)
        {
        }

        var clock = Stopwatch.StartNew();
        while (blob.RequestsOf(blobMarker) == b || registry.RequestsOf(registryMarker) == r)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new InvalidOperationException("the marker calls never showed in the blob/registry request logs: is Kestrel's request logging on?");
            }

            await Task.Delay(20);
        }
    }

    async Task<(ExportJob Job, double Seconds)> ExportAsync(string owner)
    {
        using var channel = GrpcChannels.Create($"http://127.0.0.1:{exportPort}");
        var client = new ExportService.ExportServiceClient(channel);
        var headers = auth.Headers(owner);
        var clock = Stopwatch.StartNew();
        var job = await client.StartExportAsync(new StartExportRequest(), headers);
        using (var watch = client.WatchExport(new GetExportRequest { ExportId = job.ExportId }, headers))
        {
            await foreach (var update in watch.ResponseStream.ReadAllAsync())
            {
                job = update;
            }
        }

        while (job.State is JobState.Queued or JobState.Running)
        {
            await Task.Delay(100);
            job = await client.GetExportAsync(new GetExportRequest { ExportId = job.ExportId }, headers);
        }

        var seconds = clock.Elapsed.TotalSeconds;
        if (job.State != JobState.Completed)
        {
            throw new InvalidOperationException($"export of {owner} ended {job.State}: {job.Error?.Code} {job.Error?.Message}");
        }

        return (job, seconds);
    }

    // The archive must be in the bucket at the size the job reports; then it goes, so s3rver's disk stays small.
    async Task CheckAndDeleteArchiveAsync(string owner, ExportJob job)
    {
        var key = $"exports/{owner}/{job.ExportId}.tar.gz";
        var size = await aws.SizeAsync(key);
        if (size != job.Archive.SizeBytes)
        {
            throw new InvalidOperationException($"{key}: {size} bytes in S3, the job says {job.Archive.SizeBytes}");
        }

        await aws.RemoveAsync(key);
    }

    // 1. Calls per 1,000 items: ITEMS small blobs (with a reference each) and ITEMS models.
    Say($"seeding bench-items: {items} blobs of 1 KiB, {items} references, {items} models");
    var smallDigests = await seeder.BlobsAsync("bench-items", items, 1024, parallel: 2);
    await seeder.ReferencesAsync("bench-items", smallDigests);
    await seeder.ModelsAsync("bench-items", items);
    await DrainRequestLogsAsync();
    foreach (var (method, made, service) in new[]
    {
        ("microservices.blob.v1.BlobService/BatchUpload", seeder.BatchUploadCalls, blob),
        ("microservices.blob.v1.BlobService/AddReferences", seeder.AddReferencesCalls, blob),
        ("microservices.registry.v1.ModelRegistry/ImportModels", seeder.ImportModelsCalls, registry),
    })
    {
        if (service.RequestsOf(method) != made)
        {
            throw new InvalidOperationException($"request log check: {service.Name} logged {service.RequestsOf(method)} {method} requests, the seeder made {made}");
        }
    }

    Say($"request log check: the logs count exactly the seeder's calls ({seeder.BatchUploadCalls} BatchUpload, {seeder.AddReferencesCalls} AddReferences, {seeder.ImportModelsCalls} ImportModels)");
    var itemsExport = await RestartExportAsync();
    var blobBefore = blob.Requests();
    var registryBefore = registry.Requests();
    var (itemsJob, itemsSeconds) = await ExportAsync("bench-items");
    await DrainRequestLogsAsync();
    var calls = Delta(blob.Requests(), blobBefore).Concat(Delta(registry.Requests(), registryBefore))
        .Where(c => c.Key is not "microservices.blob.v1.BlobService/Stat" and not "microservices.registry.v1.ModelRegistry/Get")
        .OrderBy(c => c.Key, StringComparer.Ordinal).ToList();
    var totalCalls = calls.Sum(c => c.Value);

    // The other side of the same calls: what the export process's own HttpClient log says it sent.
    await Task.Delay(500);
    var sent = itemsExport.OutgoingRequests().Where(c => c.Key.StartsWith("microservices.", StringComparison.Ordinal)).OrderBy(c => c.Key, StringComparer.Ordinal).ToList();
    if (!sent.SequenceEqual(calls))
    {
        throw new InvalidOperationException($"the export logged these calls made: {string.Join(", ", sent)}; registry and blob logged these served: {string.Join(", ", calls)}");
    }

    Say("request log check: the export's log of calls made matches registry's and blob's of calls served, method by method");

    var itemsTotal = itemsJob.Progress.ItemsTotal;
    if (itemsJob.Archive.Blobs != items || itemsJob.Archive.Models != items || itemsJob.Archive.References != items)
    {
        throw new InvalidOperationException($"bench-items archive holds {itemsJob.Archive.Blobs} blobs, {itemsJob.Archive.Models} models, {itemsJob.Archive.References} references; expected {items} each");
    }

    var callsPer1000 = totalCalls / (itemsTotal / 1000.0);
    Say(string.Create(inv, $"bench-items export: {itemsSeconds:F2} s, {totalCalls} calls for {itemsTotal} items: {string.Join(", ", calls.Select(c => $"{c.Key.Split('/')[1]} {c.Value}"))}"));
    await CheckAndDeleteArchiveAsync("bench-items", itemsJob);

    // 2. Throughput and memory at SIZE_MIB, then awscli on the same s3rver, then memory at BIG_MIB.
    // Each measured export runs on a fresh export process warmed up by one small export first: a
    // service is measured as it runs, not while the JIT compiles it (a cold process spends ~2.5 s
    // of CPU compiling during its first export; that cost is printed, not hidden).
    const int WarmupMiB = 32;
    Say($"seeding bench-warmup: {WarmupMiB} blobs of 1 MiB and 50 models");
    await seeder.ReferencesAsync("bench-warmup", await seeder.BlobsAsync("bench-warmup", WarmupMiB, 1024 * 1024, parallel: 3));
    await seeder.ModelsAsync("bench-warmup", 50);

    async Task<Measured> MeasureAsync(string owner, int mib)
    {
        Say($"seeding {owner}: {mib} blobs of 1 MiB (BatchUpload, 3 per call), a reference each, 200 models");
        var clock = Stopwatch.StartNew();
        var digests = await seeder.BlobsAsync(owner, mib, 1024 * 1024, parallel: 3);
        await seeder.ReferencesAsync(owner, digests);
        await seeder.ModelsAsync(owner, 200);
        Say(string.Create(inv, $"seeded {owner} in {clock.Elapsed.TotalSeconds:F1} s"));
        var process = await RestartExportAsync();
        var coldCpu = process.CpuSeconds();
        var (warmJob, warmSeconds) = await ExportAsync("bench-warmup");
        await CheckAndDeleteArchiveAsync("bench-warmup", warmJob);
        Say(string.Create(inv, $"warm-up export of {WarmupMiB} MiB: {warmSeconds:F2} s, {process.CpuSeconds() - coldCpu:F1} s of export CPU (JIT included)"));
        var written = process.WriteBytes();
        var cpu = process.CpuSeconds();
        var (blobCpu, s3Cpu) = (blob.CpuSeconds(), s3rver.CpuSeconds());
        Say($"exporting {owner} (export pid {process.Pid}, VmRSS before the export {Mib(process.StatusBytes("VmRSS"))} MiB)");
        var (job, seconds) = await ExportAsync(owner);
        var measured = new Measured(
            mib, seconds, job.Duration.ToTimeSpan().TotalSeconds, job.Archive.SizeBytes, process.StatusBytes("VmHWM"), job.PeakMemoryBytes,
            process.WriteBytes() - written, process.CpuSeconds() - cpu, blob.CpuSeconds() - blobCpu, s3rver.CpuSeconds() - s3Cpu);
        if (job.Archive.Blobs != mib)
        {
            throw new InvalidOperationException($"{owner}: the archive holds {job.Archive.Blobs} blobs, expected {mib}");
        }

        var threads = process.ThreadCpuSeconds().OrderByDescending(t => t.Value).Take(6);
        Say(string.Create(inv, $"{owner}: export CPU by thread (alive at the end): {string.Join(", ", threads.Select(t => $"'{t.Key}' {t.Value:F1} s"))}"));
        Say(string.Create(inv, $"{owner}: {seconds:F2} s ({mib / seconds:F1} MiB/s), archive {Mib(job.Archive.SizeBytes)} MiB in {job.Progress.PartsUploaded} parts, VmHWM {Mib(measured.PeakRss)} MiB, wrote {measured.DiskWrite} bytes to disk; CPU s: export {measured.CpuSeconds:F1}, blob {measured.BlobCpuSeconds:F1}, s3rver {measured.S3CpuSeconds:F1}"));
        await CheckAndDeleteArchiveAsync(owner, job);
        return measured;
    }

    var small = await MeasureAsync("bench-1g", sizeMiB);

    var file = Path.Combine(work, "awscli.bin");
    Say($"awscli baseline: writing {sizeMiB} MiB of random bytes to {file}");
    await using (var stream = File.Create(file))
    {
        var chunk = new byte[1 << 20];
        for (var i = 0; i < sizeMiB; i++)
        {
            Random.Shared.NextBytes(chunk);
            await stream.WriteAsync(chunk);
        }
    }

    var (awsS3Cpu, awsCpu) = (s3rver.CpuSeconds(), ServiceProcess.EndedChildrenCpuSeconds());
    var awsSeconds = await aws.CopyAsync(file, "awscli.bin");
    (awsS3Cpu, awsCpu) = (s3rver.CpuSeconds() - awsS3Cpu, ServiceProcess.EndedChildrenCpuSeconds() - awsCpu);
    if (await aws.SizeAsync("awscli.bin") != (long)sizeMiB << 20)
    {
        throw new InvalidOperationException("aws s3 cp: the object in s3rver is not the file's size");
    }

    await aws.RemoveAsync("awscli.bin");
    File.Delete(file);
    Say(string.Create(inv, $"aws s3 cp: {awsSeconds:F2} s ({sizeMiB / awsSeconds:F1} MiB/s); CPU s: aws {awsCpu:F1}, s3rver {awsS3Cpu:F1}"));

    var big = await MeasureAsync("bench-4g", bigMiB);

    var exportMibS = sizeMiB / small.Seconds;
    var awsMibS = sizeMiB / awsSeconds;
    var vsAwscli = exportMibS / awsMibS;
    var rssGrowth = (double)big.PeakRss / small.PeakRss - 1;
    var met = vsAwscli >= 1.0 && small.PeakRss < 256L << 20 && big.PeakRss < 256L << 20 && Math.Abs(rssGrowth) <= 0.2 && small.DiskWrite < 1L << 20 && big.DiskWrite < 1L << 20;

    Console.WriteLine("| run | blob MiB | wall s | MiB/s | job duration s | archive MiB | export VmHWM MiB | job peak_memory MiB | disk write bytes | CPU s: export / blob / s3rver |");
    Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
    foreach (var (name, m) in new[] { ("export 1g", small), ("export 4g", big) })
    {
        Console.WriteLine(string.Create(inv, $"| {name} | {m.Mib} | {m.Seconds:F2} | {m.Mib / m.Seconds:F1} | {m.JobSeconds:F2} | {Mib(m.ArchiveBytes)} | {Mib(m.PeakRss)} | {Mib(m.JobPeakMemory)} | {m.DiskWrite} | {m.CpuSeconds:F1} / {m.BlobCpuSeconds:F1} / {m.S3CpuSeconds:F1} |"));
    }

    Console.WriteLine(string.Create(inv, $"| aws s3 cp (file on local disk) | {sizeMiB} | {awsSeconds:F2} | {awsMibS:F1} | | | | | | aws {awsCpu:F1} / s3rver {awsS3Cpu:F1} |"));
    Console.WriteLine();
    Console.WriteLine(string.Create(inv, $"calls for {itemsTotal} items ({items} blobs of 1 KiB + {items} models; plus {items} references): {totalCalls} = {string.Join(" + ", calls.Select(c => $"{c.Value} {c.Key.Split('/')[1]}"))}"));
    Console.WriteLine(string.Create(inv, $"targets: vs_awscli >= 1.0 ({vsAwscli:F2}), peak RSS < 256 MiB ({Mib(small.PeakRss)} / {Mib(big.PeakRss)}), 4g within 20% of 1g ({rssGrowth:+0.0%;-0.0%}), disk ~0 ({small.DiskWrite} / {big.DiskWrite} bytes): {(met ? "met" : "missed")}"));
    Console.WriteLine(string.Create(inv,
        $"vs_awscli={vsAwscli:F2} peak_rss_mib_1g={small.PeakRss / 1048576.0:F0} peak_rss_mib_4g={big.PeakRss / 1048576.0:F0} disk_write_mib={Math.Max(small.DiskWrite, big.DiskWrite) / 1048576.0:F1} calls_per_1000_items={callsPer1000:F1} " +
        $"export_mib_s={exportMibS:F1} awscli_mib_s={awsMibS:F1} export_4g_mib_s={bigMiB / big.Seconds:F1} export_cpu_s_1g={small.CpuSeconds:F1} registry_calls={calls.Where(c => c.Key.StartsWith("microservices.registry", StringComparison.Ordinal)).Sum(c => c.Value)} blob_calls={calls.Where(c => c.Key.StartsWith("microservices.blob", StringComparison.Ordinal)).Sum(c => c.Value)} items={itemsTotal} size_mib={sizeMiB} big_mib={bigMiB} targets_met={(met ? "yes" : "no")}"));
    return 0;
}
finally
{
    foreach (var process in Enumerable.Reverse(processes))
    {
        await process.DisposeAsync();
    }
}

// EXPORT_DOTNET_X=v in the bench's environment reaches the export process alone as DOTNET_X=v
// (e.g. EXPORT_DOTNET_gcServer=0), for trying runtime settings on the export without touching the others.
static IEnumerable<KeyValuePair<string, string>> ExportRuntimeSettings() =>
    Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
        .Where(e => ((string)e.Key).StartsWith("EXPORT_DOTNET_", StringComparison.Ordinal))
        .Select(e => KeyValuePair.Create(((string)e.Key)["EXPORT_".Length..], (string)e.Value!));

static IEnumerable<KeyValuePair<string, long>> Delta(IReadOnlyDictionary<string, long> after, IReadOnlyDictionary<string, long> before) =>
    after.Select(a => KeyValuePair.Create(a.Key, a.Value - before.GetValueOrDefault(a.Key))).Where(a => a.Value > 0);

internal sealed record Measured(int Mib, double Seconds, double JobSeconds, long ArchiveBytes, long PeakRss, long JobPeakMemory, long DiskWrite, double CpuSeconds, double BlobCpuSeconds, double S3CpuSeconds);
