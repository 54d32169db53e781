using System.Globalization;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microservices.Hosting.Security;
using Microservices.Hosting.Server;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microservices.Caching.RateLimiting;

/// <summary>
/// Refuses a configured method's call with RESOURCE_EXHAUSTED (and a <c>retry-after</c> trailer in
/// whole seconds) once its caller's bucket is empty. The bucket is the token subject's: every replica
/// draws from the same one. Anonymous calls (health, reflection), delegated tokens and unconfigured
/// methods pass untouched.
/// </summary>
internal sealed class OwnerRateLimitInterceptor : Interceptor
{
    public const string RetryAfterTrailer = "retry-after";

    private static readonly TimeSpan UnavailableLogInterval = TimeSpan.FromMinutes(1);

    private readonly IReadOnlyDictionary<string, MethodRateLimit> _limits;
    private readonly ITokenBuckets _buckets;
    private readonly bool _failOpen;
    private readonly TimeProvider _time;
    private readonly ILogger<OwnerRateLimitInterceptor> _logger;
    private long _nextUnavailableLog = long.MinValue;

    public OwnerRateLimitInterceptor(IOptions<OwnerRateLimitSettings> settings, ITokenBuckets buckets, TimeProvider time, ILogger<OwnerRateLimitInterceptor> logger)
    {
        _limits = OwnerRateLimitRegistration.Limits(settings.Value);
        _buckets = buckets;
        _failOpen = settings.Value.FailOpen;
        _time = time;
        _logger = logger;
    }

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        await CheckAsync(context).ConfigureAwait(false);
        return await continuation(request, context).ConfigureAwait(false);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await CheckAsync(context).ConfigureAwait(false);
        return await continuation(requestStream, context).ConfigureAwait(false);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await CheckAsync(context).ConfigureAwait(false);
        await continuation(request, responseStream, context).ConfigureAwait(false);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await CheckAsync(context).ConfigureAwait(false);
        await continuation(requestStream, responseStream, context).ConfigureAwait(false);
    }

    private async Task CheckAsync(ServerCallContext context)
    {
        if (!_limits.TryGetValue(GrpcMethodNames.Key(context.Method), out var limit) ||
            context.GetHttpContext().User.Identity?.IsAuthenticated != true)
        {
            return;
        }

        var caller = context.Caller();

        // A delegated token (the export acting for an owner within a job) belongs to work the
        // owner's own call already paid for at the delegating service (StartExport, StartImport);
        // counting each of the job's calls again would stop an admitted job halfway.
        if (caller.Actor is not null)
        {
            return;
        }

        var owner = caller.Subject;
        TokenBucketDecision decision;
        try
        {
            decision = await _buckets.TakeAsync(OwnerRateLimitRegistration.KeyPrefix + context.Method + ":" + owner, limit, context.CancellationToken).ConfigureAwait(false);
        }
        catch (TokenBucketsUnavailableException error)
        {
            LogUnavailable(error);
            if (_failOpen)
            {
                return;
            }

            throw new RpcException(new Status(StatusCode.Unavailable,
                $"rate limits for {GrpcMethodNames.Short(context.Method)} cannot be checked now (RateLimits:FailOpen is false); retry later"));
        }

        if (!decision.Allowed)
        {
            var seconds = Math.Max(1, (long)Math.Ceiling(decision.RetryAfter.TotalSeconds));
            throw new RpcException(
                new Status(StatusCode.ResourceExhausted,
                    $"rate limit for {GrpcMethodNames.Short(context.Method)}: {limit.PermitsPerPeriod} per {DurationText.Describe(limit.Period)} per owner; retry in {seconds} s"),
                new Metadata { { RetryAfterTrailer, seconds.ToString(CultureInfo.InvariantCulture) } });
        }
    }

    /// <summary>Once a minute at most: an outage would otherwise log once per call.</summary>
    private void LogUnavailable(TokenBucketsUnavailableException error)
    {
        var now = _time.GetTimestamp();
        var next = Interlocked.Read(ref _nextUnavailableLog);
        if (now < next || Interlocked.CompareExchange(ref _nextUnavailableLog, now + (long)(UnavailableLogInterval.TotalSeconds * _time.TimestampFrequency), next) != next)
        {
            return;
        }

        _logger.LogWarning("Per-owner rate limits cannot be checked ({Reason}); calls are {Outcome} until Redis answers (logged at most once a minute).",
            error.Message, _failOpen ? "let through (RateLimits:FailOpen)" : "refused with UNAVAILABLE");
    }
}
