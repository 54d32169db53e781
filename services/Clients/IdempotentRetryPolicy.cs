using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Net.Client.Configuration;

namespace Microservices.Clients;

/// <summary>
/// A gRPC service config that retries UNAVAILABLE only for the methods a contract marks
/// <c>option idempotency_level = IDEMPOTENT</c> or <c>NO_SIDE_EFFECTS</c>: a call that may have
/// reached the server is only safe to repeat when repeating it changes nothing. Retries are
/// throttled (gRFC A6 token bucket) so an outage is not multiplied by the retry count.
/// </summary>
internal static class IdempotentRetryPolicy
{
    public static ServiceConfig ServiceConfigFor(IEnumerable<FileDescriptor> contracts, GrpcClientOptions options)
    {
        var retry = new MethodConfig
        {
            RetryPolicy = new RetryPolicy
            {
                MaxAttempts = options.MaxRetryAttempts,
                InitialBackoff = options.InitialRetryBackoff,
                MaxBackoff = options.MaxRetryBackoff,
                BackoffMultiplier = 2,
                RetryableStatusCodes = { StatusCode.Unavailable },
            },
        };
        foreach (var method in IdempotentMethods(contracts))
        {
            retry.Names.Add(new MethodName { Service = method.Service.FullName, Method = method.Name });
        }

        var config = new ServiceConfig
        {
            LoadBalancingConfigs = { new RoundRobinConfig() },
            RetryThrottling = new RetryThrottlingPolicy { MaxTokens = 10, TokenRatio = 0.1 },
        };
        // gRPC rejects a retry policy of one attempt at the first call; one attempt means no policy.
        if (retry.Names.Count > 0 && options.MaxRetryAttempts > 1)
        {
            config.MethodConfigs.Add(retry);
        }

        return config;
    }

    public static IEnumerable<MethodDescriptor> IdempotentMethods(IEnumerable<FileDescriptor> contracts) =>
        contracts.SelectMany(file => file.Services).SelectMany(service => service.Methods).Where(IsIdempotent);

    private static bool IsIdempotent(MethodDescriptor method) =>
        method.GetOptions()?.IdempotencyLevel is MethodOptions.Types.IdempotencyLevel.Idempotent or MethodOptions.Types.IdempotencyLevel.NoSideEffects;
}
