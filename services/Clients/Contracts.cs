using Google.Protobuf.Reflection;

namespace Microservices.Clients;

/// <summary>Every contract a caller may talk to; their idempotency options make the retry policy.</summary>
internal static class Contracts
{
    public static IReadOnlyList<FileDescriptor> All { get; } =
    [
        Microservices.Blob.V1.BlobReflection.Descriptor,
        Microservices.Export.V1.ExportReflection.Descriptor,
        Microservices.Registry.V1.RegistryReflection.Descriptor,
        Microservices.Testing.V1.TestReflection.Descriptor,
        Microservices.Bench.V1.EchoReflection.Descriptor,
    ];
}
