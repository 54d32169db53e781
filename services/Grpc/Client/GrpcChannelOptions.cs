using System.Net.Security;

namespace Microservices.Grpc.Client;

public sealed class GrpcChannelOptions
{
    public int MaxReceiveMessageSize { get; set; } = 4 * 1024 * 1024;

    public int MaxSendMessageSize { get; set; } = int.MaxValue;

    public RetryPolicy Retry { get; set; } = new();

    /// <summary>How often a DNS name is resolved again, so new pods receive calls and gone ones stop.</summary>
    public TimeSpan AddressRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Resolves the target's host to addresses; the default asks DNS.</summary>
    public IAddressResolver AddressResolver { get; set; } = new DnsAddressResolver();

    /// <summary>HTTP/2 connections per address; more lets one client use more than one connection's stream limit.</summary>
    public bool EnableMultipleHttp2Connections { get; set; } = true;

    /// <summary>For TLS targets: validates the server certificate; null uses the system trust store.</summary>
    public RemoteCertificateValidationCallback? ServerCertificateValidation { get; set; }

    public IList<IClientInterceptor> Interceptors { get; } = [];

    /// <summary>Replaces the per-address handlers (and so balancing) with one handler; for tests and special transports.</summary>
    public HttpMessageHandler? HttpHandler { get; set; }
}

/// <summary>
/// Retries of UNAVAILABLE for idempotent unary calls, as gRFC A6 describes: exponential backoff
/// with full jitter, and a token-bucket budget so retries cannot multiply load on a failing server.
/// </summary>
public sealed class RetryPolicy
{
    public int MaxAttempts { get; set; } = 5;

    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(5);

    public double BackoffMultiplier { get; set; } = 1.6;

    /// <summary>Budget size; retries stop while fewer than half the tokens remain.</summary>
    public double BudgetMaxTokens { get; set; } = 10;

    /// <summary>Tokens regained per successful call (each failure costs one).</summary>
    public double BudgetTokenRatio { get; set; } = 0.1;
}
