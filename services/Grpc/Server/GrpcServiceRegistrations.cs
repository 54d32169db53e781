using Google.Protobuf.Reflection;

namespace Microservices.Grpc.Server;

/// <summary>The services a host serves and their bound methods; reflection and health read it too.</summary>
internal sealed class GrpcServiceRegistrations
{
    private readonly List<ServiceDescriptor> _services = [];
    private readonly List<ServerMethod> _methods = [];

    public IReadOnlyList<ServiceDescriptor> Services => _services;

    public IReadOnlyList<ServerMethod> Methods => _methods;

    public void Add(ServiceDescriptor service, IEnumerable<ServerMethod> methods)
    {
        if (_services.Any(s => s.FullName == service.FullName))
        {
            throw new InvalidOperationException($"Service {service.FullName} is registered twice.");
        }

        _services.Add(service);
        _methods.AddRange(methods);
    }
}
