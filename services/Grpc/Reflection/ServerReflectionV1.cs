using Grpc.Reflection.V1;
using Microservices.Grpc.Server;

namespace Microservices.Grpc.Reflection;

/// <summary>grpc.reflection.v1.ServerReflection: what grpcurl and other tools use to discover the API.</summary>
internal sealed class ServerReflectionV1(ReflectionIndex index)
{
    public async Task ServerReflectionInfo(
        IAsyncStreamReader<ServerReflectionRequest> requestStream,
        IServerStreamWriter<ServerReflectionResponse> responseStream,
        ServerCallContext context)
    {
        // Files already sent on this stream are not sent again, as the protocol allows.
        var sent = new HashSet<string>(StringComparer.Ordinal);
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            await responseStream.WriteAsync(Answer(requestStream.Current, sent), context.CancellationToken);
        }
    }

    internal ServerReflectionResponse Answer(ServerReflectionRequest request, ISet<string> sent)
    {
        var response = new ServerReflectionResponse { ValidHost = request.Host, OriginalRequest = request };
        switch (request.MessageRequestCase)
        {
            case ServerReflectionRequest.MessageRequestOneofCase.ListServices:
                response.ListServicesResponse = new ListServiceResponse();
                response.ListServicesResponse.Service.AddRange(index.ServiceNames.Select(name => new ServiceResponse { Name = name }));
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.FileByFilename:
                SetFile(response, index.FindFile(request.FileByFilename), $"File '{request.FileByFilename}' not found.", sent);
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.FileContainingSymbol:
                SetFile(response, index.FindFileContainingSymbol(request.FileContainingSymbol), $"Symbol '{request.FileContainingSymbol}' not found.", sent);
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.FileContainingExtension:
                SetError(response, StatusCode.NotFound,
                    $"Extension {request.FileContainingExtension.ContainingType}.{request.FileContainingExtension.ExtensionNumber} not found.");
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.AllExtensionNumbersOfType:
                if (index.IsKnownMessage(request.AllExtensionNumbersOfType))
                {
                    // proto3 contracts declare no extensions.
                    response.AllExtensionNumbersResponse = new ExtensionNumberResponse { BaseTypeName = request.AllExtensionNumbersOfType };
                }
                else
                {
                    SetError(response, StatusCode.NotFound, $"Type '{request.AllExtensionNumbersOfType}' not found.");
                }

                break;
            default:
                SetError(response, StatusCode.InvalidArgument, "The reflection request names no known request kind.");
                break;
        }

        return response;
    }

    private static void SetFile(ServerReflectionResponse response, Google.Protobuf.Reflection.FileDescriptor? file, string notFound, ISet<string> sent)
    {
        if (file is null)
        {
            SetError(response, StatusCode.NotFound, notFound);
            return;
        }

        response.FileDescriptorResponse = new FileDescriptorResponse();
        response.FileDescriptorResponse.FileDescriptorProto.AddRange(ReflectionIndex.WithDependencies(file, sent));
        if (response.FileDescriptorResponse.FileDescriptorProto.Count == 0)
        {
            // Asked again for a file already sent: send it anyway, a client may have dropped it.
            response.FileDescriptorResponse.FileDescriptorProto.Add(file.SerializedData);
        }
    }

    private static void SetError(ServerReflectionResponse response, StatusCode code, string message) =>
        response.ErrorResponse = new ErrorResponse { ErrorCode = (int)code, ErrorMessage = message };
}
