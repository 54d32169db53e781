using Microservices.Blob.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Microservices.Blob.Domain;

/// <summary>
/// Runs the collection every Blob:Gc:Interval; a failed round is logged and retried next time.
/// With a shared index one replica's round runs at a time (the others' return at once), while
/// every replica expires the upload parts on its own disk.
/// </summary>
internal sealed partial class GarbageCollector(BlobStore store, UploadSessions uploads, BlobOptions options, TimeProvider time, ILogger<GarbageCollector> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Gc.Interval, time);
        while (await NextTickAsync(timer, stoppingToken).ConfigureAwait(false))
        {
            try
            {
                var objects = await store.CollectGarbageAsync(stoppingToken).ConfigureAwait(false);
                var parts = await uploads.ExpireAsync(options.Gc.UploadExpiry, stoppingToken).ConfigureAwait(false);
                LogRound(objects, parts);
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                LogFailed(error);
            }
        }
    }

    /// <summary>False when the host stops (the timer is cancelled or disposed): stopping is not a failure.</summary>
    private static async Task<bool> NextTickAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Garbage collection: {Objects} stored objects and {Parts} stale upload parts deleted")]
    private partial void LogRound(int objects, int parts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Garbage collection round failed")]
    private partial void LogFailed(Exception error);
}
