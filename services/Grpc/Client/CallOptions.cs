namespace Microservices.Grpc.Client;

/// <summary>Per-call settings. The default is no deadline, no extra metadata, no compression.</summary>
public readonly record struct CallOptions
{
    public Metadata? Headers { get; init; }

    /// <summary>UTC instant after which the call fails with DEADLINE_EXCEEDED (sent as grpc-timeout).</summary>
    public DateTime? Deadline { get; init; }

    public CancellationToken CancellationToken { get; init; }

    /// <summary>Overrides the method's idempotency: idempotent unary calls are retried on UNAVAILABLE.</summary>
    public bool? Idempotent { get; init; }

    /// <summary>grpc-encoding for request messages ("gzip", "deflate"); null sends them uncompressed.</summary>
    public string? Compression { get; init; }

    /// <summary>
    /// When false (the default), a call made while serving a call inherits that call's deadline and
    /// cancellation, so work stops everywhere once the original caller gives up.
    /// </summary>
    public bool DoNotPropagateServerCall { get; init; }

    public CallOptions WithDeadline(DateTime deadline) => this with { Deadline = deadline };

    public CallOptions WithTimeout(TimeSpan timeout) => this with { Deadline = DateTime.UtcNow + timeout };
}
