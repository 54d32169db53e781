using Google.Protobuf.Reflection;
using Microsoft.Extensions.DependencyInjection;

namespace Microservices.Grpc.Server;

/// <summary>One bound method: its path and how to run a call of its kind.</summary>
internal abstract class ServerMethod(MethodDescriptor descriptor)
{
    public MethodDescriptor Descriptor { get; } = descriptor;

    public string Path { get; } = "/" + descriptor.Service.FullName + "/" + descriptor.Name;

    /// <summary>Reads the request(s), invokes the implementation, writes the response(s).</summary>
    public abstract Task InvokeAsync(ServerCall call);

    protected static TService Resolve<TService>(ServerCall call)
        where TService : notnull => call.HttpContext.RequestServices.GetRequiredService<TService>();
}
