using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Microservices.Export.V1;

namespace Microservices.Export.Cli;

/// <summary>How jobs, sizes, times and progress read on a terminal.</summary>
internal static class Formatting
{
    private static readonly string[] ByteUnits = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

    /// <summary>Real timestamps, UTC, sortable as text (as the registry CLI).</summary>
    public static string Time(Timestamp? timestamp) =>
        timestamp is null ? "" : timestamp.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string State(JobState state) => state switch
    {
        JobState.Queued => "queued",
        JobState.Running => "running",
        JobState.Completed => "completed",
        JobState.Failed => "failed",
        JobState.Cancelled => "cancelled",
        JobState.Expired => "expired",
        _ => "unspecified",
    };

    public static bool IsFinished(JobState state) => state is JobState.Completed or JobState.Failed or JobState.Cancelled or JobState.Expired;

    /// <summary>Binary units, one decimal: 1536 → "1.5 KiB".</summary>
    public static string Bytes(long bytes)
    {
        double value = bytes;
        var unit = 0;
        while (Math.Abs(value) >= 1024 && unit < ByteUnits.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes} B")
            : string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {ByteUnits[unit]}");
    }

    /// <summary>The two largest units: "42s", "4m05s", "1h02m", "2d03h".</summary>
    public static string Span(TimeSpan span)
    {
        if (span < TimeSpan.Zero)
        {
            span = TimeSpan.Zero;
        }

        return span.TotalDays >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalDays}d{span.Hours:00}h")
            : span.TotalHours >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{span.Hours}h{span.Minutes:00}m")
            : span.TotalMinutes >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{span.Minutes}m{span.Seconds:00}s")
            : string.Create(CultureInfo.InvariantCulture, $"{span.Seconds}s");
    }

    public static string Span(Duration? duration) => duration is null ? "" : Span(duration.ToTimeSpan());

    /// <summary>"blob_data, 120/400 items, 1.2 MiB/8.0 MiB, archive 3.0 MiB in 1 part(s), ETA 42s": only what is known.</summary>
    public static string Describe(Progress? progress)
    {
        if (progress is null || progress.Phase.Length == 0)
        {
            return "waiting";
        }

        var parts = new List<string> { progress.Phase };
        if (progress.ItemsTotal > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{progress.ItemsDone}/{progress.ItemsTotal} items"));
        }
        else if (progress.ItemsDone > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{progress.ItemsDone} items"));
        }

        if (progress.BytesTotal > 0)
        {
            parts.Add($"{Bytes(progress.BytesDone)}/{Bytes(progress.BytesTotal)}");
        }

        if (progress.PartsUploaded > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"archive {Bytes(progress.ArchiveBytes)} in {progress.PartsUploaded} part(s)"));
        }

        if (progress.EstimatedTimeLeft is { } left)
        {
            parts.Add("ETA " + Span(left));
        }

        return string.Join(", ", parts);
    }

    /// <summary>0 to 100: items when they were counted (they span every phase), else bytes.</summary>
    public static double Percent(Progress? progress)
    {
        if (progress is null)
        {
            return 0;
        }

        var (done, total) = progress.ItemsTotal > 0 ? (progress.ItemsDone, progress.ItemsTotal) : (progress.BytesDone, progress.BytesTotal);
        return total <= 0 ? 0 : Math.Clamp(100.0 * done / total, 0, 100);
    }

    public static string Contents(ExportContents? include)
    {
        if (include is null || !(include.Models || include.Blobs || include.References))
        {
            return "everything";
        }

        var parts = new List<string>();
        if (include.Models)
        {
            parts.Add("models");
        }

        if (include.Blobs)
        {
            parts.Add("blobs");
        }

        if (include.References)
        {
            parts.Add("references");
        }

        return string.Join(", ", parts);
    }

    public static string Error(JobError? error) => error is null || (error.Code.Length == 0 && error.Message.Length == 0) ? "" : $"{error.Code}: {error.Message}";
}
