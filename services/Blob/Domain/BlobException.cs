namespace Microservices.Blob.Domain;

/// <summary>Why a blob operation was refused; the handler maps each to a gRPC status.</summary>
internal enum BlobErrorKind
{
    InvalidArgument,
    NotFound,
    FailedPrecondition,
    ResourceExhausted,
    Unauthenticated,
    DataLoss,
}

/// <summary>A refusal with a message a person can act on (field and rule, what was looked up, which state blocks it).</summary>
internal sealed class BlobException(BlobErrorKind kind, string message) : Exception(message)
{
    public BlobErrorKind Kind { get; } = kind;

    public static BlobException Invalid(string message) => new(BlobErrorKind.InvalidArgument, message);

    public static BlobException NotFound(string message) => new(BlobErrorKind.NotFound, message);

    public static BlobException Precondition(string message) => new(BlobErrorKind.FailedPrecondition, message);
}
