using Google.Protobuf;
using Microservices.Grpc.Server;
using V1 = Grpc.Reflection.V1;
using V1Alpha = Grpc.Reflection.V1Alpha;

namespace Microservices.Grpc.Reflection;

/// <summary>
/// grpc.reflection.v1alpha, still the version many tools ask first. Its messages are the v1
/// messages under another package name, identical on the wire, so each request is re-read as v1
/// and answered by the v1 service: one implementation, two names.
/// </summary>
internal sealed class ServerReflectionV1Alpha(ServerReflectionV1 v1)
{
    public async Task ServerReflectionInfo(
        IAsyncStreamReader<V1Alpha.ServerReflectionRequest> requestStream,
        IServerStreamWriter<V1Alpha.ServerReflectionResponse> responseStream,
        ServerCallContext context)
    {
        var sent = new HashSet<string>(StringComparer.Ordinal);
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            var request = V1.ServerReflectionRequest.Parser.ParseFrom(requestStream.Current.ToByteString());
            var response = v1.Answer(request, sent);
            await responseStream.WriteAsync(V1Alpha.ServerReflectionResponse.Parser.ParseFrom(response.ToByteString()), context.CancellationToken);
        }
    }
}
