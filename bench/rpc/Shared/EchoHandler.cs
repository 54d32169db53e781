using Grpc.Core;
using Microservices.Bench.V1;

namespace Microservices.Bench.Rpc;

/// <summary>
/// The echo both grpc-dotnet rows serve (GrpcEchoServer with our host defaults, PlainGrpcEcho
/// without them): one source, so the two differ only by the host around it.
/// </summary>
internal sealed class EchoHandler : EchoService.EchoServiceBase
{
    public override Task<EchoResponse> Echo(EchoRequest request, ServerCallContext context) =>
        Task.FromResult(new EchoResponse { Payload = request.Payload });
}
