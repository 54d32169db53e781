using System.Collections.Concurrent;
using System.Diagnostics;
using Microservices.Caching.Coordination;
using Microservices.Export.Extensions;
using Microservices.Export.Import;
using Microservices.Export.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Microservices.Export.Jobs;

/// <summary>
/// Every replica runs one: it looks for unfinished jobs, takes the lease of those nobody holds
/// (new ones, and those whose replica died), and runs them, renewing the lease as it goes. A
/// runner that loses its lease is cancelled, and its writes were fenced off already.
/// </summary>
internal sealed class JobScheduler(
    IJobStore store,
    ILeaseLockProvider leases,
    ExportRunner exports,
    ImportRunner imports,
    JobFinisher finisher,
    JobSweeper sweeper,
    ExportOptions options,
    ExportMetrics metrics,
    TimeProvider time,
    ILogger<JobScheduler> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0, 1);

    public static string LeaseName(string jobId) => $"export-job:{jobId}";

    /// <summary>Looks for work now instead of at the next poll (a job was just created here).</summary>
    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await PollAsync(stoppingToken).ConfigureAwait(false);
                await sweeper.SweepIfDueAsync(stoppingToken).ConfigureAwait(false);
                await _wake.WaitAsync(options.PollInterval, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Looking for export jobs failed; trying again");
                await Task.Delay(options.PollInterval, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        await Task.WhenAll(_running.Values).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task PollAsync(CancellationToken stoppingToken)
    {
        var active = await store.ActiveAsync(stoppingToken).ConfigureAwait(false);
        var unfinished = await store.GetManyAsync(active, stoppingToken).ConfigureAwait(false);
        metrics.UnfinishedJobs(unfinished.Count(j => j.State == JobState.Queued), unfinished.Count(j => j.State == JobState.Running));
        foreach (var id in active.OrderBy(_ => Random.Shared.Next()))
        {
            if (_running.Count >= options.MaxConcurrentJobs)
            {
                return;
            }

            if (_running.ContainsKey(id))
            {
                continue;
            }

            var lease = await leases.TryAcquireAsync(LeaseName(id), options.Lease, stoppingToken).ConfigureAwait(false);
            if (lease is null)
            {
                continue;
            }

            try
            {
                // Claim before reading: a runner that lost this job and is still finishing it is
                // fenced off first, so the record read next is the last one anybody can write.
                var fence = await store.ClaimAsync(id, stoppingToken).ConfigureAwait(false);
                var record = await store.GetAsync(id, stoppingToken).ConfigureAwait(false);
                if (record is null || record.State.IsFinished())
                {
                    // Finished but still listed as active (a crash between two writes): list it right.
                    await store.ForgetAsync(id, record, fence, stoppingToken).ConfigureAwait(false);
                    await lease.DisposeAsync().ConfigureAwait(false);
                    continue;
                }

                var run = new Task<Task>(() => RunAsync(record, fence, lease, stoppingToken));
                _running[id] = run.Unwrap();
                run.Start(TaskScheduler.Default);
            }
            catch
            {
                await lease.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    private async Task RunAsync(JobRecord record, long fence, ILeaseLock lease, CancellationToken stoppingToken)
    {
        using var lost = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var renewal = RenewAsync(lease, lost);
        var takeover = record.State == JobState.Running;
        var kind = record.Kind.ToString().ToLowerInvariant();
        ActivityContext.TryParse(record.TraceParent, null, out var parent);
        using var activity = ExportMetrics.Activities.StartActivity($"{kind} job", ActivityKind.Internal, parent);
        activity?.SetTag("export.job.id", record.Id);
        activity?.SetTag("export.job.takeover", takeover);
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["JobId"] = record.Id });
        CurrentJob.Set(record.Id);
        logger.LogInformation("{Action} {Kind} job {JobId}", takeover ? "Taking over" : "Starting", kind, record.Id);

        var job = new RunningJob(store, record, fence, time, options.ProgressInterval);
        metrics.JobStarted(kind, takeover);
        string? final = null;
        try
        {
            await job.SaveAsync(record with
            {
                State = JobState.Running,
                StartedAt = record.StartedAt ?? time.GetUtcNow(),
                Takeovers = record.Takeovers + (takeover ? 1 : 0),
            }, lost.Token).ConfigureAwait(false);
            await (record.Kind == JobKind.Export ? exports.RunAsync(job, lost.Token) : imports.RunAsync(job, lost.Token)).ConfigureAwait(false);
            await finisher.FinishAsync(job, job.Record.State == JobState.Running ? JobState.Completed : job.Record.State, null, lost.Token).ConfigureAwait(false);
            final = job.Record.State.ToString();
        }
        catch (Exception ex) when (ex is JobLeaseLostException || lost.IsCancellationRequested || IsJobStoreOutage(ex))
        {
            // Shutting down, or another replica has the job now: it carries on from the last checkpoint.
            // Whatever the stop surfaced as counts as the stop: a gRPC call cancelled under it throws
            // RpcException(Cancelled), not OperationCanceledException, and must not fail the job.
            logger.LogInformation("Stopped {Kind} job {JobId}: {Reason}", kind, record.Id, stoppingToken.IsCancellationRequested ? "shutting down" : "lease lost");
        }
        catch (JobCancelledException)
        {
            final = await EndAsync(job, JobState.Cancelled, null).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "{Kind} job {JobId} failed", kind, record.Id);
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            final = await EndAsync(job, JobState.Failed, JobErrors.From(ex)).ConfigureAwait(false);
        }
        finally
        {
            await lost.CancelAsync().ConfigureAwait(false);
            await renewal.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            metrics.JobStopped(kind, final?.ToLowerInvariant());
            await lease.DisposeAsync().ConfigureAwait(false);
            _running.TryRemove(record.Id, out _);
        }
    }

    private async Task<string?> EndAsync(RunningJob job, JobState state, JobError? error)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await finisher.FinishAsync(job, state, error, timeout.Token).ConfigureAwait(false);
            return state.ToString();
        }
        catch (Exception ex)
        {
            // The lease lapses and another replica (or this one) picks the job up again.
            logger.LogWarning(ex, "Could not record job {JobId} as {State}", job.Record.Id, state);
            return null;
        }
    }

    private async Task RenewAsync(ILeaseLock lease, CancellationTokenSource lost)
    {
        try
        {
            while (!lost.IsCancellationRequested)
            {
                await Task.Delay(options.Lease / 3, time, lost.Token).ConfigureAwait(false);
                if (!await lease.ExtendAsync(options.Lease, lost.Token).ConfigureAwait(false))
                {
                    logger.LogWarning("Lost the lease of {Resource}; stopping", lease.Resource);
                    await lost.CancelAsync().ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (lost.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // Whatever keeps the lease from being renewed (Redis unreachable, failing over, loading):
            // stop rather than run on without it and risk two writers.
            logger.LogWarning(ex, "Could not renew {Resource}; stopping the job", lease.Resource);
            await lost.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Redis failing under a running job: the job is not at fault; it stops and is taken over (resumed) once Redis is back.</summary>
    private static bool IsJobStoreOutage(Exception error) =>
        error is StackExchange.Redis.RedisConnectionException or StackExchange.Redis.RedisTimeoutException or CoordinationUnavailableException;
}
