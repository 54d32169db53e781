using Grpc.Core;
using Microservices.Testing.V1;

namespace Microservices.Clients.Tests.Support;

/// <summary>
/// Host A of a two-hop chain: each call is passed to host B through the client that
/// AddServiceClient injected, with no deadline or token of its own, so whatever B sees came
/// from call-context propagation.
/// </summary>
internal sealed class RelayService(ServerLog log, TestService.TestServiceClient downstream) : TestService.TestServiceBase
{
    public override async Task<Empty> EmptyCall(Empty request, ServerCallContext context)
    {
        log.Enter(context);
        return await downstream.EmptyCallAsync(request);
    }

    public override async Task StreamingOutputCall(
        StreamingOutputCallRequest request,
        IServerStreamWriter<StreamingOutputCallResponse> responseStream,
        ServerCallContext context)
    {
        log.Enter(context);
        using var call = downstream.StreamingOutputCall(request);
        await foreach (var response in call.ResponseStream.ReadAllAsync())
        {
            await responseStream.WriteAsync(response);
        }
    }
}
