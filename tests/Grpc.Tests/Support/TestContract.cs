using Microservices.Grpc.Client;
using Microservices.Testing.V1;

namespace Microservices.Grpc.Tests.Support;

/// <summary>Client-side method handles of the interop test contract.</summary>
internal static class TestContract
{
    public static readonly Google.Protobuf.Reflection.ServiceDescriptor Service = TestReflection.Descriptor.Services.Single(s => s.Name == "TestService");

    public static readonly Method<Empty, Empty> EmptyCall = Method<Empty, Empty>.Of(Service, "EmptyCall");
    public static readonly Method<SimpleRequest, SimpleResponse> UnaryCall = Method<SimpleRequest, SimpleResponse>.Of(Service, "UnaryCall");
    public static readonly Method<StreamingOutputCallRequest, StreamingOutputCallResponse> StreamingOutputCall = Method<StreamingOutputCallRequest, StreamingOutputCallResponse>.Of(Service, "StreamingOutputCall");
    public static readonly Method<StreamingInputCallRequest, StreamingInputCallResponse> StreamingInputCall = Method<StreamingInputCallRequest, StreamingInputCallResponse>.Of(Service, "StreamingInputCall");
    public static readonly Method<StreamingOutputCallRequest, StreamingOutputCallResponse> FullDuplexCall = Method<StreamingOutputCallRequest, StreamingOutputCallResponse>.Of(Service, "FullDuplexCall");
    public static readonly Method<StreamingOutputCallRequest, StreamingOutputCallResponse> HalfDuplexCall = Method<StreamingOutputCallRequest, StreamingOutputCallResponse>.Of(Service, "HalfDuplexCall");

    /// <summary>A method the service does not declare, for unimplemented_method.</summary>
    public static readonly Method<Empty, Empty> UnimplementedMethod = new("microservices.testing.v1.TestService", "UnimplementedCall", MethodType.Unary, Empty.Parser);

    public static readonly Method<Empty, Empty> UnimplementedService = new("microservices.testing.v1.UnimplementedService", "UnimplementedCall", MethodType.Unary, Empty.Parser);
}
