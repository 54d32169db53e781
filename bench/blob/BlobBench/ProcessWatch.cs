using System.Diagnostics;
using System.Globalization;

namespace Microservices.BlobBench;

/// <summary>Samples a process's resident memory from /proc: current RSS and the kernel's peak (VmHWM).</summary>
internal sealed class ProcessWatch : IAsyncDisposable
{
    private readonly int _pid;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _windowPeakRss;

    public ProcessWatch(int pid)
    {
        _pid = pid;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Highest VmHWM seen (the kernel's own peak RSS), bytes.</summary>
    public long PeakHwm { get; private set; }

    /// <summary>Highest RSS sampled since the last <see cref="ResetWindow"/>, bytes.</summary>
    public long WindowPeakRss => Interlocked.Read(ref _windowPeakRss);

    public void ResetWindow() => Interlocked.Exchange(ref _windowPeakRss, Read("VmRSS:"));

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var rss = Read("VmRSS:");
            var hwm = Read("VmHWM:");
            if (rss > Interlocked.Read(ref _windowPeakRss))
            {
                Interlocked.Exchange(ref _windowPeakRss, rss);
            }

            PeakHwm = Math.Max(PeakHwm, hwm);
            try
            {
                await Task.Delay(20, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private long Read(string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{_pid}/status"))
            {
                if (line.StartsWith(field, StringComparison.Ordinal))
                {
                    return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            // The process ended between samples.
        }

        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    /// <summary>Runs a program to completion; returns its stdout+stderr, elapsed time and peak RSS.</summary>
    public static async Task<(string Output, TimeSpan Elapsed, long PeakRss, int ExitCode)> RunAsync(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        await using var watch = new ProcessWatch(process.Id);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        clock.Stop();
        var peak = watch.PeakHwm;
        return ((await stdout) + (await stderr), clock.Elapsed, peak, process.ExitCode);
    }
}
