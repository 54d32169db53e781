using System.Net.Sockets;
using Amazon.Runtime;
using Grpc.Core;
using Microservices.Export.Telemetry;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Microservices.Export.Jobs;

/// <summary>Export:Retry: how long a job rides out a dependency that is down (a restart, a reset connection, throttling).</summary>
internal sealed class RetryOptions
{
    public int MaxAttempts { get; set; } = 12;

    public TimeSpan FirstDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// Retries with exponential backoff and jitter (Polly) around each batch a job reads or writes.
/// The gRPC channel's own retry covers brief blips of idempotent calls; this covers a dependency
/// that is gone for seconds, and streams that broke midway (which the channel cannot retry).
/// </summary>
internal sealed class DependencyRetry
{
    private readonly Dictionary<string, ResiliencePipeline> _pipelines;

    public DependencyRetry(RetryOptions options, ExportMetrics metrics, ILogger<DependencyRetry> logger)
    {
        _pipelines = new[] { "registry", "blob", "s3" }.ToDictionary(name => name, name => new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                // A timeout inside a call (HttpClient, the SDK) surfaces as a cancellation too; only the job's own token stops retrying.
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } error
                    && (IsTransient(error) || (error is OperationCanceledException && !args.Context.CancellationToken.IsCancellationRequested))),
                MaxRetryAttempts = options.MaxAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.FirstDelay,
                MaxDelay = options.MaxDelay,
                OnRetry = args =>
                {
                    metrics.Retry(name);
                    logger.LogWarning("Retrying a call to {Dependency} for job {JobId} (attempt {Attempt}) after {Error}", name, CurrentJob.JobId ?? "-", args.AttemptNumber + 1, args.Outcome.Exception?.Message);
                    return default;
                },
            })
            .Build());
    }

    public ValueTask<T> ExecuteAsync<T>(string dependency, Func<CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken) =>
        _pipelines[dependency].ExecuteAsync(call, cancellationToken);

    public ValueTask ExecuteAsync(string dependency, Func<CancellationToken, ValueTask> call, CancellationToken cancellationToken) =>
        _pipelines[dependency].ExecuteAsync(call, cancellationToken);

    /// <summary>Failures a later attempt can fix; a client mistake (INVALID_ARGUMENT, NOT_FOUND, 4xx) is not one.</summary>
    internal static bool IsTransient(Exception error) => error switch
    {
        OperationCanceledException => false,
        RpcException rpc => rpc.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Unknown
            or StatusCode.ResourceExhausted or StatusCode.Aborted or StatusCode.DeadlineExceeded,
        AmazonServiceException s3 => (int)s3.StatusCode >= 500 || s3.ErrorCode is "SlowDown" or "Throttling" or "RequestTimeout" or "ThrottlingException",
        AmazonClientException => true,
        HttpRequestException or IOException or SocketException or TimeoutException => true,
        _ => false,
    };
}
