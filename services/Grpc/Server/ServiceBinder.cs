using System.Reflection;
using Google.Protobuf.Reflection;

namespace Microservices.Grpc.Server;

/// <summary>
/// Binds an implementation class to a protobuf service descriptor by method name and signature,
/// the shapes grpc-dotnet's generated base classes use:
/// unary <c>Task&lt;Res&gt; M(Req, ServerCallContext)</c>, server streaming <c>Task M(Req, IServerStreamWriter&lt;Res&gt;, ServerCallContext)</c>,
/// client streaming <c>Task&lt;Res&gt; M(IAsyncStreamReader&lt;Req&gt;, ServerCallContext)</c>, duplex
/// <c>Task M(IAsyncStreamReader&lt;Req&gt;, IServerStreamWriter&lt;Res&gt;, ServerCallContext)</c>.
/// A missing method is an error at startup, not a surprise at the first call.
/// </summary>
internal static class ServiceBinder
{
    public static IReadOnlyList<ServerMethod> Bind(Type implementation, ServiceDescriptor service, bool singleton = false)
    {
        var methods = new List<ServerMethod>();
        var missing = new List<string>();
        foreach (var method in service.Methods)
        {
            var (parameters, returnType, kind) = Shape(method);
            var found = implementation.GetMethod(method.Name, BindingFlags.Public | BindingFlags.Instance, parameters);
            if (found is null || found.ReturnType != returnType)
            {
                missing.Add($"{Describe(returnType)} {method.Name}({string.Join(", ", parameters.Select(Describe))})");
                continue;
            }

            var request = method.InputType.ClrType;
            var response = method.OutputType.ClrType;
            var delegateType = System.Linq.Expressions.Expression.GetFuncType(new[] { implementation }.Concat(parameters).Append(returnType).ToArray());
            var invoker = Delegate.CreateDelegate(delegateType, found);
            var methodType = kind.MakeGenericType(implementation, request, response);
            var bound = (ServerMethod)Activator.CreateInstance(methodType, method, invoker)!;
            bound.ResolveFromRoot = singleton;
            methods.Add(bound);
        }

        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                $"{implementation.FullName} does not implement every method of {service.FullName}. Missing public methods: {string.Join("; ", missing)}.");
        }

        return methods;
    }

    private static (Type[] Parameters, Type Return, Type Kind) Shape(MethodDescriptor method)
    {
        var request = method.InputType.ClrType;
        var response = method.OutputType.ClrType;
        var reader = typeof(IAsyncStreamReader<>).MakeGenericType(request);
        var writer = typeof(IServerStreamWriter<>).MakeGenericType(response);
        var context = typeof(ServerCallContext);
        var responseTask = typeof(Task<>).MakeGenericType(response);
        return (method.IsClientStreaming, method.IsServerStreaming) switch
        {
            (false, false) => ([request, context], responseTask, typeof(UnaryServerMethod<,,>)),
            (false, true) => ([request, writer, context], typeof(Task), typeof(ServerStreamingServerMethod<,,>)),
            (true, false) => ([reader, context], responseTask, typeof(ClientStreamingServerMethod<,,>)),
            (true, true) => ([reader, writer, context], typeof(Task), typeof(DuplexStreamingServerMethod<,,>)),
        };
    }

    private static string Describe(Type type) =>
        type.IsGenericType
            ? $"{type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)]}<{string.Join(", ", type.GetGenericArguments().Select(Describe))}>"
            : type.Name;
}
