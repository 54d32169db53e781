using Spectre.Console;
using JobProgress = Microservices.Export.V1.Progress;

namespace Microservices.Export.Cli;

/// <summary>
/// Progress on the error console: a live Spectre bar on a terminal; when stderr is a file or a
/// pipe, one line per job phase (a log must not fill with redraws).
/// </summary>
internal static class ProgressDisplay
{
    /// <summary>A job's progress as its watch reports it: phase, items, bytes and the server's ETA in the description.</summary>
    public static async Task<T> JobAsync<T>(IAnsiConsole console, string label, Func<Action<JobProgress?>, Task<T>> work)
    {
        if (!IsLive(console))
        {
            string? phase = null;
            return await work(progress =>
            {
                var now = progress?.Phase ?? "";
                if (now.Length > 0 && now != phase)
                {
                    phase = now;
                    console.Profile.Out.Writer.WriteLine($"{label}: {Formatting.Describe(progress)}");
                }
            });
        }

        // The bar first: the description grows with the phase and would squeeze a bar after it away.
        return await Bar(console, new ProgressBarColumn { Width = 30 }, new PercentageColumn(), new TaskDescriptionColumn { Alignment = Justify.Left }).StartAsync(async context =>
        {
            // The job id is on the command line or was just printed; on the bar's line every column counts.
            var task = context.AddTask("waiting", maxValue: 100);
            var result = await work(progress =>
            {
                task.Description = Markup.Escape(Formatting.Describe(progress));
                task.Value = Formatting.Percent(progress);
            });
            task.StopTask();
            return result;
        });
    }

    /// <summary>Bytes moved through the CLI itself (upload, download), with speed and remaining time.</summary>
    public static async Task<T> TransferAsync<T>(IAnsiConsole console, string label, long total, long alreadyDone, Func<Action<long>?, Task<T>> work)
    {
        if (!IsLive(console))
        {
            return await work(null);
        }

        return await Bar(console, new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape(label), maxValue: Math.Max(total, 1));
                task.Value = alreadyDone;
                return await work(n => task.Increment(n));
            });
    }

    private static bool IsLive(IAnsiConsole console) => console.Profile.Capabilities.Interactive && console.Profile.Out.IsTerminal;

    private static Spectre.Console.Progress Bar(IAnsiConsole console, params ProgressColumn[] columns) => console.Progress().Columns(columns);
}
