namespace Microservices.Export.Domain;

internal enum ExportErrorKind
{
    InvalidArgument,
    NotFound,
    FailedPrecondition,
    ResourceExhausted,

    /// <summary>The caller may not have this done (e.g. an archive_url the export must not fetch).</summary>
    PermissionDenied,

    /// <summary>A conflict with a concurrent call that a retry resolves.</summary>
    Aborted,
}

/// <summary>A request the domain refuses; the handler maps the kind to a gRPC status and passes the message on.</summary>
internal sealed class ExportException(ExportErrorKind kind, string message) : Exception(message)
{
    public ExportErrorKind Kind { get; } = kind;
}
