using Google.Protobuf.Reflection;
using Microsoft.Extensions.DependencyInjection;

namespace Microservices.Grpc.Server;

/// <summary>One bound method: its path and how to run a call of its kind.</summary>
internal abstract class ServerMethod(MethodDescriptor descriptor)
{
    public MethodDescriptor Descriptor { get; } = descriptor;

    public string Path { get; } = "/" + descriptor.Service.FullName + "/" + descriptor.Name;

    public string ServiceName { get; } = descriptor.Service.FullName;

    /// <summary>Reads the request(s), invokes the implementation, writes the response(s).</summary>
    public abstract Task InvokeAsync(ServerCall call);

    /// <summary>A singleton implementation comes from the root provider: no per-request DI scope is created for it.</summary>
    public bool ResolveFromRoot { get; set; }

    protected TService Resolve<TService>(ServerCall call)
        where TService : notnull =>
        ResolveFromRoot
            ? call.RootServices.GetRequiredService<TService>()
            : call.HttpContext.RequestServices.GetRequiredService<TService>();
}
