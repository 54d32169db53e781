using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microservices.Bench;

namespace Microservices.ExportBench;

/// <summary>
/// One process the bench starts (a service, redis-server, s3rver): its output goes to a log file,
/// "Request starting HTTP/2 POST http://host/pkg.Service/Method" lines (Kestrel's request log, calls
/// served) and "Start processing HTTP request POST http://host/pkg.Service/Method" lines (the
/// HttpClient factory's log, calls made) are counted per method, and its /proc figures can be read. The pid is appended to a file so
/// bench/export/run can stop it even if this driver dies.
/// </summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    private const string RequestStarting = "Request starting HTTP/2 POST ";
    private const string ClientRequest = "Start processing HTTP request POST ";
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly ConcurrentDictionary<string, long> _requests = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _outgoing = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _tail = new();

    private ServiceProcess(string name, Process process, StreamWriter log)
    {
        Name = name;
        _process = process;
        _log = log;
    }

    public string Name { get; }

    public int Pid => _process.Id;

    public static ServiceProcess Start(string name, string file, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment, string logPath, string pidFile)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };

        // A host's content root is its working directory: run a .dll from its own folder, so its appsettings.json applies.
        var first = args.FirstOrDefault();
        if (first is not null && first.EndsWith(".dll", StringComparison.Ordinal))
        {
            info.WorkingDirectory = Path.GetDirectoryName(first)!;
        }

        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        var process = Process.Start(info) ?? throw new InvalidOperationException($"{name}: could not start {file}");
        File.AppendAllText(pidFile, process.Id.ToString(CultureInfo.InvariantCulture) + "\n");
        var service = new ServiceProcess(name, process, log);
        process.OutputDataReceived += (_, e) => service.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => service.OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.WriteLine(line);
        }

        _tail.Enqueue(line);
        while (_tail.Count > 40 && _tail.TryDequeue(out _))
        {
        }

        Count(line, RequestStarting, _requests);
        Count(line, ClientRequest, _outgoing);
    }

    private static void Count(string line, string prefix, ConcurrentDictionary<string, long> counts)
    {
        var at = line.IndexOf(prefix, StringComparison.Ordinal);
        if (at >= 0)
        {
            var url = line[(at + prefix.Length)..].Split(' ')[0];
            var method = Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.AbsolutePath.TrimStart('/') : url;
            counts.AddOrUpdate(method, 1, (_, n) => n + 1);
        }
    }

    /// <summary>Requests served so far, by "pkg.Service/Method".</summary>
    public IReadOnlyDictionary<string, long> Requests() => new Dictionary<string, long>(_requests, StringComparer.Ordinal);

    /// <summary>Requests this process made through its HttpClient factory clients so far, by "pkg.Service/Method".</summary>
    public IReadOnlyDictionary<string, long> OutgoingRequests() => new Dictionary<string, long>(_outgoing, StringComparer.Ordinal);

    public long RequestsOf(string method) => _requests.TryGetValue(method, out var n) ? n : 0;

    public Task WaitForPortAsync(int port, TimeSpan timeout) =>
        PortWait.UntilListeningAsync(_process, Name, port, timeout, () => string.Join('\n', _tail));

    /// <summary>A "Key:  N kB" field of /proc/PID/status, in bytes (VmHWM: the kernel's peak RSS).</summary>
    public long StatusBytes(string field) => ProcField($"/proc/{Pid}/status", field + ":") * 1024;

    /// <summary>Bytes this process caused to be written to storage (/proc/PID/io write_bytes).</summary>
    public long WriteBytes() => ProcField($"/proc/{Pid}/io", "write_bytes:");

    /// <summary>User + system CPU seconds so far (/proc/PID/stat, clock ticks of 1/100 s).</summary>
    public double CpuSeconds() => StatCpuSeconds(File.ReadAllText($"/proc/{Pid}/stat"), 11);

    /// <summary>CPU seconds by thread name (/proc/PID/task/*/comm, e.g. ".NET Server GC", ".NET TP Worker") of the threads alive now.</summary>
    public IReadOnlyDictionary<string, double> ThreadCpuSeconds()
    {
        var byName = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var task in Directory.EnumerateDirectories($"/proc/{Pid}/task"))
        {
            try
            {
                var name = File.ReadAllText(Path.Combine(task, "comm")).Trim();
                byName[name] = byName.GetValueOrDefault(name) + StatCpuSeconds(File.ReadAllText(Path.Combine(task, "stat")), 11);
            }
            catch (IOException)
            {
                // The thread ended meanwhile.
            }
        }

        return byName;
    }

    /// <summary>User + system CPU seconds of this driver's children that have ended and been waited for (cutime + cstime).</summary>
    public static double EndedChildrenCpuSeconds() => StatCpuSeconds(File.ReadAllText("/proc/self/stat"), 13);

    // /proc stat fields after the ")" of the command name: index 11/12 are utime/stime, 13/14 cutime/cstime, in 1/100 s.
    private static double StatCpuSeconds(string stat, int first)
    {
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[first], CultureInfo.InvariantCulture) + long.Parse(fields[first + 1], CultureInfo.InvariantCulture)) / 100.0;
    }

    private static long ProcField(string path, string field)
    {
        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"{path} has no {field}");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }

        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }
}
