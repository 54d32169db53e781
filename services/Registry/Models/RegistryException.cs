namespace Microservices.Registry.Models;

/// <summary>
/// A refused registry call, with a message a person can act on. The gRPC handler maps
/// <see cref="Kind"/> to the status code of the same number and <see cref="Exception.Message"/>
/// to grpc-message; nothing else of the exception goes on the wire.
/// </summary>
internal sealed class RegistryException : Exception
{
    public RegistryException(RegistryErrorKind kind, string message)
        : base(message)
    {
        Kind = kind;
    }

    public RegistryErrorKind Kind { get; }

    /// <summary>The field that broke a rule (InvalidArgument only).</summary>
    public string? Field { get; private init; }

    public static RegistryException InvalidArgument(string field, string rule) =>
        new(RegistryErrorKind.InvalidArgument, $"{field}: {rule}") { Field = field };

    public static RegistryException NotFound(string owner, string what) =>
        new(RegistryErrorKind.NotFound, $"No model {what} for owner '{owner}'.");

    public static RegistryException AlreadyExists(string message) =>
        new(RegistryErrorKind.AlreadyExists, message);

    public static RegistryException FailedPrecondition(string message) =>
        new(RegistryErrorKind.FailedPrecondition, message);

    public static RegistryException StaleVersion(string modelId, long expected, long actual) =>
        new(RegistryErrorKind.Aborted,
            $"Model '{modelId}' is at version {actual}, not the expected {expected}: it was changed since it was read. Get it again and retry.");
}
