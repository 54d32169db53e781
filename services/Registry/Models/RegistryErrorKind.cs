namespace Microservices.Registry.Models;

/// <summary>
/// Why a registry call was refused. The numeric values are the gRPC status codes the handler
/// returns, so the mapping is 1:1 and cannot drift.
/// </summary>
internal enum RegistryErrorKind
{
    InvalidArgument = 3,
    NotFound = 5,
    AlreadyExists = 6,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
}
